// Autograd-lite modules. No tape: forward(x) keeps what its backward needs, backward(dy) returns
// dx and accumulates parameter gradients. Containers compose their children explicitly. Modules
// only call ops (never a backend), so every module runs on any device its input lives on.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/activation_transform.h"
#include "nn/graph.h"
#include "nn/parameter.h"

namespace bmc::nn {

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Non-virtual entry points: check the call sequence, then run the implementation.
  Tensor forward(const Tensor& x);
  Tensor backward(const Tensor& dy);

  // Activation transforms (nn/activation_transform.h), applied in the order added: input ones
  // before forward_impl, output ones after it; backward runs them in reverse.
  ActivationTransform& add_transform(TransformSide side, std::unique_ptr<ActivationTransform> t);
  // The same, applied before the transforms already on that side.
  ActivationTransform& insert_transform_front(TransformSide side, std::unique_ptr<ActivationTransform> t);
  // Removes the transforms whose describe() starts with `kind` (all of them for ""); returns how many.
  size_t remove_transforms(const std::string& kind = "");
  void visit_transforms(const std::function<void(TransformSide, size_t, ActivationTransform&)>& fn);
  bool has_transforms(TransformSide side) const {
    return !(side == TransformSide::Input ? input_transforms_ : output_transforms_).empty();
  }

  // The module's place in the layer graph (nn/graph.h). A leaf adds one node of graph_role()
  // reading `input` and returns its index; containers override describe() to add their children.
  virtual NodeRole graph_role() const { return NodeRole::Other; }
  virtual int describe(GraphBuilder& g, const std::string& name, int input);
  // "a.b" + "c" -> "a.b.c" ("" + "c" -> "c").
  static std::string join_name(const std::string& prefix, const std::string& local);

  // While on, forward and backward skip the module's own computation (its transforms still run):
  // a layer folded into its neighbour, as Distiller replaces a folded batch norm with nn.Identity.
  void set_identity(bool on) { identity_ = on; }
  bool identity() const { return identity_; }

  void set_training(bool training);
  bool training() const { return training_; }
  const std::string& type_name() const { return type_name_; }
  // The names of its forward and backward in profiles and NVTX timelines ("layer1.0.conv1
  // Conv2d forward"); nn::Model sets them from the dotted module names.
  void set_profile_name(const std::string& name);

  // Walks parameters and buffers depth-first in registration order, passing full dotted names.
  void visit_parameters(const std::function<void(const std::string&, Parameter&)>& fn,
                        const std::string& prefix = "");
  void visit_buffers(const std::function<void(const std::string&, Buffer&)>& fn, const std::string& prefix = "");
  void visit_modules(const std::function<void(const std::string&, Module&)>& fn, const std::string& prefix = "");

 protected:
  virtual Tensor forward_impl(const Tensor& x) = 0;
  virtual Tensor backward_impl(const Tensor& dy) = 0;

  Parameter& add_parameter(const std::string& local_name, const Shape& shape, ParamKind kind, int64_t fan_in);
  Buffer& add_buffer(const std::string& local_name, const Shape& shape, DType dtype, float initial_value = 0.0f);
  template <class M>
  M& add_child(const std::string& local_name, std::unique_ptr<M> child) {
    M& ref = *child;
    children_.emplace_back(local_name, std::move(child));
    return ref;
  }

 private:
  std::string type_name_;
  std::string forward_label_ = type_name_ + " forward", backward_label_ = type_name_ + " backward";
  bool training_ = true;
  bool forward_pending_ = false;  // a forward ran whose backward has not
  bool identity_ = false;
  std::vector<std::unique_ptr<ActivationTransform>> input_transforms_, output_transforms_;
  std::vector<std::pair<std::string, std::unique_ptr<Parameter>>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Buffer>>> buffers_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

// Chain: applies named children in order, so a network whose PyTorch forward is a straight line
// of attributes (conv1, bn1, relu, ..., fc) gets the same state_dict keys without a hand-written
// forward.
class Chain : public Module {
 public:
  explicit Chain(std::string type_name = "Chain") : Module(std::move(type_name)) {}
  template <class M>
  M& append(const std::string& name, std::unique_ptr<M> m) {
    modules_.push_back(m.get());
    names_.push_back(name);
    return add_child(name, std::move(m));
  }
  size_t size() const { return modules_.size(); }
  int describe(GraphBuilder& g, const std::string& name, int input) override;

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  std::vector<Module*> modules_;
  std::vector<std::string> names_;
  std::vector<char> ran_inside_previous_;  // by the last forward: run inside a module before it (nn/fusion.h)
};

// torch.nn.Sequential: a Chain whose children are named "0", "1", ...
class Sequential : public Chain {
 public:
  Sequential() : Chain("Sequential") {}
  template <class M>
  M& append(std::unique_ptr<M> m) {
    return Chain::append(std::to_string(size()), std::move(m));
  }
};

}  // namespace bmc::nn
