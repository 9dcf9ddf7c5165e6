// Model: a network plus its flat parameter arena on one device. Values, gradients, momentum and
// masks each live in one contiguous buffer (llm.c's malloc_and_point_parameters); every Parameter
// holds views into them, in visit order. That gives one optimizer launch per step, global
// magnitude pruning over one buffer, and checkpoints as a loop over named views.
#pragma once

#include <memory>
#include <string>
#include <vector>

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

  void zero_grad();
  void reset_momentum();
  void reset_masks();  // all ones

 private:
  std::string arch_;
  std::unique_ptr<Module> net_;
  Device device_;
  std::vector<Parameter*> params_;
  std::vector<Buffer*> buffers_;
  std::vector<int64_t> offsets_;
  int64_t numel_ = 0;
  Tensor values_, grads_, momentum_, masks_;
};

}  // namespace bmc::nn
