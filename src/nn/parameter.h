// Parameters and buffers of a model. A Parameter's tensors are views into the model's flat
// arena (one buffer each for values, gradients, momentum and masks, see nn/model.h), so the
// optimizer updates a whole model in one launch and global pruning works on one buffer; the
// dotted name is the PyTorch state_dict key of the equivalent module. Layers compute with the
// parameter's effective tensor, which its parametrization chain derives from the stored value.
#pragma once

#include <string>

#include "core/tensor.h"
#include "nn/parametrization.h"

namespace bmc::nn {

enum class ParamKind : unsigned char {
  Weight,  // conv / linear weight: prunable, kaiming-initialised
  Bias,    // conv / linear bias
  BnWeight,
  BnBias,
};

struct Parameter {
  std::string name;  // full dotted name, set when the model is bound to an arena
  Shape shape;
  ParamKind kind = ParamKind::Weight;
  int64_t fan_in = 0;  // inputs per output unit (for initialisation)
  Tensor value;     // f32 view into the arena
  Tensor grad;      // f32 view, accumulated by backward
  Tensor momentum;  // f32 view, SGD state
  Tensor mask;      // f32 0/1 view; all ones unless pruned
  ParametrizationChain parametrizations;

  bool prunable() const { return kind == ParamKind::Weight; }
  int64_t numel() const { return shape.numel(); }

  // For parameter layers. forward: the tensor to compute with (the stored value itself when the
  // chain is the identity). backward: the tensor to accumulate the effective gradient into (grad
  // itself, or a zeroed scratch), then finish_backward() maps it through the chain onto grad.
  const Tensor& effective();
  Tensor& effective_grad();
  void finish_backward();

 private:
  bool chained_ = false;  // the last effective() ran the chain
  Tensor effective_, effective_grad_;
};

// Non-trainable state saved in checkpoints (BatchNorm running statistics, num_batches_tracked).
struct Buffer {
  std::string name;
  Shape shape;
  DType dtype = DType::F32;
  float initial_value = 0.0f;  // f32 buffers start at this value (BatchNorm's running_var: 1)
  Tensor value;  // owned (not in the arena)
};

}  // namespace bmc::nn
