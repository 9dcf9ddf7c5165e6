// BSQ training and fine-tuning as hooks of the ordinary training loop (train::Trainer): the
// regularizer weights at every step, re-quantization and precision adjustment at the start of
// every prun_int-th epoch (the optimizer's momentum reset, as upstream re-creates it) and after the
// last step, upstream's parameter clamps, and model files written as the float export plus the
// bit form. A resumed run repeats the adjustment due at its first step, so it matches an
// uninterrupted one bit for bit.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compress/bsq/bsq_model.h"
#include "train/trainer.h"

namespace bmc::compress {

struct BsqTrainConfig {
  bool finetune = false;
  float alpha = 0.0f;     // --decay
  int64_t prun_int = 1;   // epochs between adjustments
  double threshold = 0;   // --thre, percent
  int max_bits = 8;
  int act_bits = -1;      // recorded in the files (-1: no activation quantizers)
  bool upstream_clamp = false;
};

// True at the first step of every prun_int-th epoch (epoch 0 included).
bool bsq_adjusts_at(int64_t step, int64_t steps_per_epoch, int64_t prun_int);

// "name a->b ...; T bits over P weights, Cx, A bits on average"
std::string describe_precision_changes(const std::vector<BsqLayer>& layers, const std::vector<PrecisionChange>& changes);

// model_best.safetensors -> model_best_bits.safetensors
std::string bsq_bits_path(const std::string& float_path);

// Installs the hooks into `options`; `log` receives one line per adjustment. The references must
// outlive the training run.
void install_bsq_hooks(train::TrainOptions& options, nn::Model& model, std::vector<BsqLayer>& layers,
                       const std::map<std::string, BsqActivation*>& acts, const BsqTrainConfig& config,
                       int64_t steps_per_epoch, std::function<void(const std::string&)> log);

}  // namespace bmc::compress
