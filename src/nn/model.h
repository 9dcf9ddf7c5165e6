// Model: a network plus its flat parameter arena on one device. Values, gradients, momentum and
// masks each live in one contiguous buffer (llm.c's malloc_and_point_parameters); every Parameter
// holds views into them, in visit order. That gives one optimizer launch per step, global
// magnitude pruning over one buffer, and checkpoints as a loop over named views. State of the
// parametrizations and activation transforms attached to the model (nn/state.h) lives beside the
// arena, reached through visit_state_owners().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/graph.h"
#include "nn/module.h"

namespace bmc::nn {

class Model {
 public:
  Model(std::string arch, std::unique_ptr<Module> net, Device device);
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& arch() const { return arch_; }
  Device device() const { return device_; }
  Module& net() { return *net_; }

  Tensor forward(const Tensor& x) { return net_->forward(x); }
  Tensor backward(const Tensor& dy) { return net_->backward(dy); }
  void set_training(bool training) { net_->set_training(training); }

  const std::vector<Parameter*>& parameters() const { return params_; }
  const std::vector<Buffer*>& buffers() const { return buffers_; }
  Parameter& parameter(const std::string& name);
  int64_t num_parameters() const { return numel_; }

  // The flat buffers (f32, numel elements each); parameter i occupies [offset(i), offset(i) + numel).
  Tensor& values() { return values_; }
  Tensor& grads() { return grads_; }
  Tensor& momentum() { return momentum_; }
  Tensor& masks() { return masks_; }
  int64_t offset(size_t i) const { return offsets_[i]; }

  // The layer graph of net() (its structure is fixed at construction).
  const LayerGraph& graph() const { return graph_; }

  // Every parametrization and activation transform, with the dotted prefix its state is saved
  // under: "<module>.parametrizations.<tensor>.<i>" and "<module>.transforms.<input|output>.<i>".
  void visit_state_owners(const std::function<void(const std::string&, StateOwner&)>& fn);
  // Every state tensor of them, under "<prefix>.<local name>".
  void visit_state(const std::function<void(const std::string&, StateTensor&)>& fn);

  void zero_grad();  // the arena's gradients and those of trainable state
  void reset_momentum();
  void reset_masks();  // all ones
  // After masks() was written: the mask parametrization first in the chain of every parameter
  // with a pruned entry, and on no other.
  void masks_changed();

 private:
  std::string arch_;
  std::unique_ptr<Module> net_;
  Device device_;
  std::vector<Parameter*> params_;
  std::vector<Buffer*> buffers_;
  std::vector<int64_t> offsets_;
  int64_t numel_ = 0;
  Tensor values_, grads_, momentum_, masks_;
  LayerGraph graph_;
};

}  // namespace bmc::nn
