#include "nn/module.h"

#include "core/profile.h"
#include "nn/fusion.h"

namespace bmc::nn {

void Module::set_profile_name(const std::string& name) {
  forward_label_ = name + " " + type_name_ + " forward";
  backward_label_ = name + " " + type_name_ + " backward";
}

Tensor Module::forward(const Tensor& x) {
  BMC_CHECK(x.defined(), type_name_, ".forward: undefined input");
  const profile::Range range(forward_label_.c_str(), x.device());
  forward_pending_ = true;
  if (input_transforms_.empty() && output_transforms_.empty() && !identity_) return forward_impl(x);
  Tensor h = x.view(x.shape());
  for (auto& t : input_transforms_) h = t->forward(h);
  if (!identity_) h = forward_impl(h);
  for (auto& t : output_transforms_) h = t->forward(h);
  return h;
}

ActivationTransform& Module::add_transform(TransformSide side, std::unique_ptr<ActivationTransform> t) {
  auto& list = side == TransformSide::Input ? input_transforms_ : output_transforms_;
  list.push_back(std::move(t));
  return *list.back();
}

ActivationTransform& Module::insert_transform_front(TransformSide side, std::unique_ptr<ActivationTransform> t) {
  auto& list = side == TransformSide::Input ? input_transforms_ : output_transforms_;
  list.insert(list.begin(), std::move(t));
  return *list.front();
}

size_t Module::remove_transforms(const std::string& kind) {
  size_t removed = 0;
  for (auto* list : {&input_transforms_, &output_transforms_})
    removed += std::erase_if(*list, [&](const auto& t) { return t->describe().rfind(kind, 0) == 0; });
  return removed;
}

void Module::visit_transforms(const std::function<void(TransformSide, size_t, ActivationTransform&)>& fn) {
  for (size_t i = 0; i < input_transforms_.size(); ++i) fn(TransformSide::Input, i, *input_transforms_[i]);
  for (size_t i = 0; i < output_transforms_.size(); ++i) fn(TransformSide::Output, i, *output_transforms_[i]);
}

Tensor Module::backward(const Tensor& dy) {
  BMC_CHECK(forward_pending_, type_name_, ".backward called without a preceding forward");
  BMC_CHECK(dy.defined(), type_name_, ".backward: undefined gradient");
  const profile::Range range(backward_label_.c_str(), dy.device());
  forward_pending_ = false;
  if (input_transforms_.empty() && output_transforms_.empty() && !identity_) return backward_impl(dy);
  Tensor g = dy.view(dy.shape());
  for (auto it = output_transforms_.rbegin(); it != output_transforms_.rend(); ++it) g = (*it)->backward(g);
  if (!identity_) g = backward_impl(g);
  for (auto it = input_transforms_.rbegin(); it != input_transforms_.rend(); ++it) g = (*it)->backward(g);
  return g;
}

int Module::describe(GraphBuilder& g, const std::string& name, int input) {
  BMC_CHECK(children_.empty(), type_name_, " '", name, "' is a container that does not describe its layer graph");
  return g.add(name, graph_role(), this, {input});
}

std::string Module::join_name(const std::string& prefix, const std::string& local) {
  return prefix.empty() ? local : prefix + "." + local;
}

void Module::set_training(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->set_training(training);
}

void Module::visit_parameters(const std::function<void(const std::string&, Parameter&)>& fn,
                              const std::string& prefix) {
  for (auto& [name, p] : params_) fn(prefix + name, *p);
  for (auto& [name, child] : children_) child->visit_parameters(fn, prefix + name + ".");
}

void Module::visit_buffers(const std::function<void(const std::string&, Buffer&)>& fn, const std::string& prefix) {
  for (auto& [name, b] : buffers_) fn(prefix + name, *b);
  for (auto& [name, child] : children_) child->visit_buffers(fn, prefix + name + ".");
}

void Module::visit_modules(const std::function<void(const std::string&, Module&)>& fn, const std::string& prefix) {
  fn(prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1), *this);
  for (auto& [name, child] : children_) child->visit_modules(fn, prefix + name + ".");
}

Parameter& Module::add_parameter(const std::string& local_name, const Shape& shape, ParamKind kind, int64_t fan_in) {
  auto p = std::make_unique<Parameter>();
  p->name = local_name;
  p->shape = shape;
  p->kind = kind;
  p->fan_in = fan_in;
  Parameter& ref = *p;
  params_.emplace_back(local_name, std::move(p));
  return ref;
}

Buffer& Module::add_buffer(const std::string& local_name, const Shape& shape, DType dtype, float initial_value) {
  auto b = std::make_unique<Buffer>();
  b->name = local_name;
  b->shape = shape;
  b->dtype = dtype;
  b->initial_value = initial_value;
  Buffer& ref = *b;
  buffers_.emplace_back(local_name, std::move(b));
  return ref;
}

int Chain::describe(GraphBuilder& g, const std::string& name, int input) {
  for (size_t i = 0; i < modules_.size(); ++i) input = modules_[i]->describe(g, join_name(name, names_[i]), input);
  return input;
}

Tensor Chain::forward_impl(const Tensor& x) {
  Tensor h = x.view(x.shape());
  ran_inside_previous_.assign(modules_.size(), 0);
  const size_t n = modules_.size();
  for (size_t i = 0; i < n; ++i) {
    Module* next = i + 1 < n ? modules_[i + 1] : nullptr;
    Module* after = i + 2 < n ? modules_[i + 2] : nullptr;
    size_t inside = static_cast<size_t>(fuse_into_convolution(*modules_[i], next, after, h));
    if (inside == 0) inside = fuse_relu_into(*modules_[i], next) ? 1 : 0;
    h = modules_[i]->forward(h);
    for (; inside > 0; --inside) ran_inside_previous_[++i] = 1;
  }
  return h;
}

Tensor Chain::backward_impl(const Tensor& dy) {
  Tensor g = dy.view(dy.shape());
  for (size_t i = modules_.size(); i-- > 0;)
    if (!ran_inside_previous_[i]) g = modules_[i]->backward(g);
  return g;
}

}  // namespace bmc::nn
