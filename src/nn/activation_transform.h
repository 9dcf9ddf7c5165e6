// Activation transforms: what a compression method does to the tensor a module receives or
// returns, without the module's code changing (observers for calibration, fake quantization for
// PTQ and QAT, SPARQ's bit windows). Each has a forward and a backward, so they train: a module
// runs its input transforms, its own forward, then its output transforms, and backward runs their
// backwards in reverse. State (running ranges, say) goes through StateOwner, into checkpoints.
#pragma once

#include "nn/state.h"

namespace bmc::nn {

class ActivationTransform : public StateOwner {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  // The gradient with respect to forward's input (identity unless overridden).
  virtual Tensor backward(const Tensor& dy) { return dy.view(dy.shape()); }
};

enum class TransformSide { Input, Output };

}  // namespace bmc::nn
