#include "nn/module.h"

namespace bmc::nn {

Tensor Module::forward(const Tensor& x) {
  BMC_CHECK(x.defined(), type_name_, ".forward: undefined input");
  forward_pending_ = true;
  if (!pre_hook_ && !post_hook_) return forward_impl(x);
  Tensor y = pre_hook_ ? forward_impl(pre_hook_(x)) : forward_impl(x);
  if (post_hook_) return post_hook_(y);
  return y;
}

void Module::set_forward_hooks(ForwardHook pre, ForwardHook post) {
  pre_hook_ = std::move(pre);
  post_hook_ = std::move(post);
}

Tensor Module::backward(const Tensor& dy) {
  BMC_CHECK(forward_pending_, type_name_, ".backward called without a preceding forward");
  BMC_CHECK(dy.defined(), type_name_, ".backward: undefined gradient");
  forward_pending_ = false;
  return backward_impl(dy);
}

void Module::set_training(bool training) {
  training_ = training;
  on_set_training(training);
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

Tensor Chain::forward_impl(const Tensor& x) {
  Tensor h = x.view(x.shape());
  for (Module* m : modules_) h = m->forward(h);
  return h;
}

Tensor Chain::backward_impl(const Tensor& dy) {
  Tensor g = dy.view(dy.shape());
  for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) g = (*it)->backward(g);
  return g;
}

}  // namespace bmc::nn
