// Chain: applies named children in order. Sequential with names of one's choosing, so a network
// whose PyTorch forward is a straight line of attributes (conv1, bn1, relu, ..., fc) gets the
// same state_dict keys without a hand-written forward.
#pragma once

#include "nn/module.h"

namespace bmc::nn {

class Chain : public Module {
 public:
  explicit Chain(std::string type_name = "Chain") : Module(std::move(type_name)) {}
  template <class M>
  M& append(const std::string& name, std::unique_ptr<M> m) {
    modules_.push_back(m.get());
    return add_child(name, std::move(m));
  }

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  std::vector<Module*> modules_;
};

}  // namespace bmc::nn
