// A residual block: out = relu(main(x) + shortcut(x)), the shape of OpenLTH's CIFAR ResNet block
// and torchvision's BasicBlock/Bottleneck. The main path is a list of named layers, each
// optionally followed by a ReLU; the shortcut is a named module or the identity. Layers are
// registered in call order, so state_dict keys come out as PyTorch's (conv1, bn1, ..., shortcut).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace bmc::nn {

class ResidualBlock : public Module {
 public:
  explicit ResidualBlock(std::string type_name) : Module(std::move(type_name)) {}

  template <class M>
  M& add_main(const std::string& name, std::unique_ptr<M> layer, bool relu_after = false) {
    main_.push_back({name, layer.get(), relu_after ? std::make_unique<ReLU>() : nullptr});
    return add_child(name, std::move(layer));
  }
  template <class M>
  M& set_shortcut(const std::string& name, std::unique_ptr<M> shortcut) {
    BMC_CHECK(shortcut_ == nullptr, type_name(), ": shortcut set twice");
    shortcut_ = shortcut.get();
    shortcut_name_ = name;
    return add_child(name, std::move(shortcut));
  }
  // Main path (with "relu<k>" after the layers that have one), shortcut, "add", "relu_out".
  int describe(GraphBuilder& g, const std::string& name, int input) override;
  // The add's inputs as identity modules (0: the main path, 1: the shortcut), so a compression
  // pass can transform each one before the sum (Distiller's quantized add re-scales them onto the
  // sum's grid); the sum itself is relu_out's input.
  Module& add_input(int k) { return add_inputs_.at(static_cast<size_t>(k)); }

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  struct Step {
    std::string name;
    Module* layer;
    std::unique_ptr<ReLU> relu;  // not a child: it has no state PyTorch would save
    bool relu_fused = false;     // by the last forward, into the layer (nn/fusion.h)
    bool ran_inside_previous = false;  // by the last forward, layer and ReLU, into the step before
  };
  std::vector<Step> main_;
  Module* shortcut_ = nullptr;  // identity when null
  std::string shortcut_name_;
  std::array<Identity, 2> add_inputs_;  // not children either
  ReLU out_relu_;
  Tensor out_y_;  // the block's output, when the last forward ran out_relu_'s ReLU inside the add
};

}  // namespace bmc::nn
