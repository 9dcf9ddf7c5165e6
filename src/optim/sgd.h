// SGD with momentum, Nesterov, weight decay and masks over a Model's flat arena: one fused
// masked-SGD step per iteration, whatever the number of parameters; then the same update on each
// trainable state tensor of the model's parametrizations and activation transforms.
#pragma once

#include "kernels/sgd.cuh"
#include "nn/model.h"
#include "optim/lr_schedule.h"

namespace bmc::optim {

struct SgdOptions {
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

class Sgd {
 public:
  Sgd(nn::Model& model, SgdOptions options) : model_(model), options_(options) {}
  // Applies one update with learning rate lr (from the schedule) and masks.
  void step(float lr);
  // The same, reading the learning rate from `lr` (an f32 scalar on the model's device) as the
  // update runs: a captured step replays with whatever the scalar holds then.
  void step(const Tensor& lr);

 private:
  void apply(const SgdHyper& hyper);

  nn::Model& model_;
  SgdOptions options_;
};

}  // namespace bmc::optim
