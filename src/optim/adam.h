// Adam over a chosen set of parameters (torch.optim.Adam semantics, AMSGrad optional, no weight
// decay): the moments live here, one set per parameter, so a pass that trains a few tensors of a
// model (LatticeQ's block reconstruction) leaves the model's SGD momentum untouched. The step
// reads each parameter's accumulated gradient from the model's arena.
#pragma once

#include <vector>

#include "kernels/adam.cuh"
#include "nn/parameter.h"

namespace bmc::optim {

struct AdamOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  bool amsgrad = false;
};

class Adam {
 public:
  Adam(std::vector<nn::Parameter*> params, AdamOptions options);
  // One update at learning rate lr (the step count advances first, as in PyTorch).
  void step(float lr);
  int64_t steps() const { return steps_; }

 private:
  struct Moments {
    Tensor m, v, vmax;
  };
  std::vector<nn::Parameter*> params_;
  std::vector<Moments> moments_;
  AdamOptions options_;
  int64_t steps_ = 0;
};

}  // namespace bmc::optim
