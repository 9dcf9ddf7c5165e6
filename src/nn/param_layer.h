// What every parameter layer (Conv2d, Linear) offers compression passes: its weight and optional
// bias, whose parametrization chains they attach to, and a slot for a kernel that replaces the
// layer's arithmetic at inference (SPARQ's integer GEMMs on windowed codes). The layer graph gives
// these nodes the role NodeRole::ParamLayer.
#pragma once

#include <memory>
#include <string>

#include "nn/module.h"

namespace bmc::nn {

// Computes the layer's output from its input (after the input transforms) in place of the float
// convolution or matrix product. Inference only: backward through a layer with a kernel is refused.
class LayerKernel {
 public:
  virtual ~LayerKernel() = default;
  virtual std::string describe() const = 0;
  virtual Tensor forward(const Tensor& x) = 0;
};

class ParamLayer : public Module {
 public:
  using Module::Module;
  NodeRole graph_role() const override { return NodeRole::ParamLayer; }
  virtual Parameter& weight() = 0;
  virtual Parameter* bias() = 0;

  // Installs (or, with nullptr, removes) the replacement kernel.
  void set_kernel(std::unique_ptr<LayerKernel> kernel) { kernel_ = std::move(kernel); }
  LayerKernel* kernel() const { return kernel_.get(); }

 protected:
  // For backward_impl: refuses to train through a replacement kernel.
  void check_no_kernel() const {
    BMC_CHECK(!kernel_, type_name(), ": backward through an inference kernel (", kernel_->describe(),
              ") is not supported; remove it first");
  }

 private:
  std::unique_ptr<LayerKernel> kernel_;
};

}  // namespace bmc::nn
