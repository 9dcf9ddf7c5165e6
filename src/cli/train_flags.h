// The flags of the commands that touch data: where (--data, --device, --out, --json), which model
// and split (--model, --dataset, --batch-size, --holdout-per-class), and for the commands that
// train (train, lottery, prune) every hyper-parameter with the model's OpenLTH default.
#pragma once

#include "cli/args.h"
#include "train/hparams.h"
#include "train/trainer.h"

namespace bmc::cli {

void declare_run_flags(Args& args);
void declare_model_data_flags(Args& args);  // + declare_run_flags
void declare_train_flags(Args& args);       // + declare_model_data_flags
// Defaults for --model, then every declared flag that was given.
train::TrainHparams hparams_from_flags(const Args& args);
train::TrainOptions options_from_flags(const Args& args, int64_t steps_per_epoch);
// For commands that evaluate a trained model: the hparams plus the digests of --checkpoint
// (required) and --mask (optional).
train::TrainHparams checkpoint_hparams_from_flags(const Args& args, const std::string& command);

}  // namespace bmc::cli
