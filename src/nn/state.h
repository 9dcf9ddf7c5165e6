// State owned by a weight parametrization or an activation transform, beside the model's flat
// parameter arena: trainable tensors of any shape (BSQ's bit planes and scale), non-trainable
// tensors (codes, bases, running ranges) and host scalars (a layer's precision). Each tensor owns
// its storage, so it can change shape between epochs (resize) without touching the arena.
// Checkpoints save every entry under its stable dotted name, the optimizer updates the trainable
// ones.
#pragma once

#include <cmath>
#include <functional>
#include <string>

#include "core/tensor.h"

namespace bmc::nn {

struct StateTensor {
  Tensor value;
  bool trainable = false;
  // Optimizer rules the owner declares for a trainable tensor.
  bool weight_decay = true;
  float clamp_min = -INFINITY, clamp_max = INFINITY;  // value clamped after every update
  // A checkpoint may hold another shape (the owner re-derives its layout on load).
  bool resizable = false;
  // Optimizer side, allocated with the value (trainable tensors only).
  Tensor grad, momentum;

  void allocate(const Shape& shape, Device device, float initial = 0.0f);
  // New shape; gradient and momentum restart at zero.
  void resize(const Shape& shape);
  bool clamped() const { return std::isfinite(clamp_min) || std::isfinite(clamp_max); }
};


// Visits an owner's state under local names (the caller prefixes the owner's dotted path).
struct StateVisitor {
  std::function<void(const std::string&, StateTensor&)> tensor;
  std::function<void(const std::string&, double&)> scalar;
};

// Anything that owns such state.
class StateOwner {
 public:
  virtual ~StateOwner() = default;
  // A stable identifier of what this is and how it is configured (e.g. "fake_quant(b=4,sym)");
  // checkpoints record it so a resume with another configuration is refused.
  virtual std::string describe() const = 0;
  virtual void visit_state(const StateVisitor&) {}
  // Called after the state was loaded from a checkpoint (shapes may have changed).
  virtual void state_loaded() {}
};

}  // namespace bmc::nn
