// Post-training quantization as one call: the calibration loader, calibrate-quantize-evaluate
// with the strict argmax (quantized logits tie often), the optional integer-path check, and the
// float weights put back. `bmc quantize` and `bmc qlth` only parse flags and print.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "compress/quant/range_linear.h"
#include "datasets/data_loader.h"
#include "train/evaluate.h"

namespace bmc::compress {

// The calibration batches: `train` in a fixed shuffled order (`seed`), no augmentation, the
// normalisation and layout of `base` (the test loader's options), batch size `batch_size`.
std::unique_ptr<data::DataLoader> calibration_loader(const data::Dataset& train, const data::LoaderOptions& base,
                                                     Device device, int batch_size, uint64_t seed);

// Top-1 of logits (N, classes) against labels with ties going to the first class (torch.argmax).
int64_t strict_top1_hits(const std::vector<float>& logits, int64_t classes, const std::vector<int32_t>& labels,
                         int64_t first_row = 0);

// Evaluation-mode top-1 of the model on `test` with the strict argmax.
double strict_top1(nn::Model& model, const data::BatchSource& test);

struct QuantEval {
  train::EvalResult quantized;  // top-1 counts ties with the label's logit as hits (ops::topk_correct)
  double top1_strict = 0;        // top-1 with ties going to the first class (argmax), as torch.argmax
  nlohmann::json params;             // PostTrainQuantizer::describe()
  std::map<std::string, std::string> folded_norms;  // PostTrainQuantizer::folded_norms()
  int64_t integer_agree = -1;        // test images whose integer-path argmax equals the simulation's
  int64_t integer_correct = -1;      // integer-path top-1 hits
  std::vector<int64_t> disagreements;  // test indices where they differ (first 20)
};

// Calibrates on the first `calib_batches` batches of `calib`, quantizes, evaluates on `test`,
// optionally runs the integer check, and restores the float weights.
QuantEval quantize_and_evaluate(nn::Model& model, const QuantConfig& config, const data::BatchSource& calib,
                                int64_t calib_batches, const data::BatchSource& test, bool integer_check);

}  // namespace bmc::compress
