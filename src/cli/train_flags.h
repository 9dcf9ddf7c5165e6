// The training flags shared by `bmc train` and the commands built on training (lottery, prune):
// every hyper-parameter with the model's OpenLTH default, overridable.
#pragma once

#include "cli/args.h"
#include "train/hparams.h"
#include "train/trainer.h"

namespace bmc::cli {

void declare_train_flags(Args& args);
// Defaults for --model, then every flag that was given.
train::TrainHparams hparams_from_flags(const Args& args);
train::TrainOptions options_from_flags(const Args& args, int64_t steps_per_epoch);
// For commands that evaluate a trained model: the hparams plus the digests of --checkpoint
// (required) and --mask (optional).
train::TrainHparams checkpoint_hparams_from_flags(const Args& args, const std::string& command);

}  // namespace bmc::cli
