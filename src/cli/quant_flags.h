// The post-training quantization flags shared by `bmc quantize` and `bmc qlth` (Distiller's
// --qe-* names, with its short spellings as aliases), and the quantize-calibrate-evaluate step.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "compress/quant/range_linear.h"
#include "datasets/data_loader.h"
#include "train/evaluate.h"

namespace bmc::cli {

class Session;

void declare_quant_flags(Args& args);
// Everything but the weight bits is read from the flags; `bits_weights` comes from the caller.
compress::QuantConfig quant_config_from_flags(const Args& args, int bits_weights);
nlohmann::json quant_flags_json(const compress::QuantConfig& config, int64_t calib_batches);

// The calibration batches: the training split in a fixed shuffled order (the data seed), no
// augmentation, the training batch size.
std::unique_ptr<data::DataLoader> calibration_loader(const Session& session, int batch_size, uint64_t data_seed);

struct QuantEval {
  train::EvalResult quantized;  // top-1 counts ties with the label's logit as hits (ops::topk_correct)
  double top1_strict = 0;        // top-1 with ties going to the first class (argmax), as torch.argmax
  nlohmann::json params;             // PostTrainQuantizer::describe()
  int64_t integer_agree = -1;        // test images whose integer-path argmax equals the simulation's
  int64_t integer_correct = -1;      // integer-path top-1 hits
  std::vector<int64_t> disagreements;  // test indices where they differ (first 20)
};

// Calibrates on `calib`, quantizes, evaluates on `test`, optionally runs the integer check, and
// restores the float weights.
QuantEval quantize_and_evaluate(nn::Model& model, const compress::QuantConfig& config, const data::DataLoader& calib,
                                int64_t calib_batches, const data::DataLoader& test, bool integer_check);

}  // namespace bmc::cli
