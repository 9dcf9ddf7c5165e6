#include "nn/model.h"

#include <algorithm>
#include <set>

#include "nn/mask.h"

namespace bmc::nn {

Model::Model(std::string arch, std::unique_ptr<Module> net, Device device)
    : arch_(std::move(arch)), net_(std::move(net)), device_(device), graph_(*net_) {
  net_->visit_parameters([&](const std::string& name, Parameter& p) {
    p.name = name;
    params_.push_back(&p);
    offsets_.push_back(numel_);
    numel_ += p.numel();
  });
  values_ = Tensor::zeros({numel_}, DType::F32, device);
  grads_ = Tensor::zeros({numel_}, DType::F32, device);
  momentum_ = Tensor::zeros({numel_}, DType::F32, device);
  masks_ = Tensor::full({numel_}, 1.0f, device);
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    p.value = values_.slice(offsets_[i], p.shape);
    p.grad = grads_.slice(offsets_[i], p.shape);
    p.momentum = momentum_.slice(offsets_[i], p.shape);
    p.mask = masks_.slice(offsets_[i], p.shape);
  }
  net_->visit_buffers([&](const std::string& name, Buffer& b) {
    b.name = name;
    b.value = b.dtype == DType::F32 ? Tensor::full(b.shape, b.initial_value, device)
                                    : Tensor::zeros(b.shape, b.dtype, device);
    buffers_.push_back(&b);
  });
  net_->visit_modules([&](const std::string& name, Module& m) { m.set_profile_name(name.empty() ? arch_ : name); });
}

Parameter& Model::parameter(const std::string& name) {
  for (Parameter* p : params_)
    if (p->name == name) return *p;
  BMC_FAIL(arch_, " has no parameter named '", name, "'");
}

void Model::visit_state_owners(const std::function<void(const std::string&, StateOwner&)>& fn) {
  for (Parameter* p : params_) {
    const size_t dot = p->name.rfind('.');
    const std::string owner = dot == std::string::npos ? "" : p->name.substr(0, dot);
    const std::string tensor = dot == std::string::npos ? p->name : p->name.substr(dot + 1);
    const auto& links = p->parametrizations.links();
    for (size_t i = 0; i < links.size(); ++i)
      fn(Module::join_name(owner, "parametrizations." + tensor + "." + std::to_string(i)), *links[i]);
  }
  // Graph nodes first (they name the ReLUs inside containers), then any other module.
  std::set<const Module*> seen;
  auto transforms_of = [&](const std::string& name, Module& m) {
    if (!seen.insert(&m).second) return;
    m.visit_transforms([&](TransformSide side, size_t i, ActivationTransform& t) {
      const char* where = side == TransformSide::Input ? "input" : "output";
      fn(Module::join_name(name, std::string("transforms.") + where + "." + std::to_string(i)), t);
    });
  };
  for (const GraphNode& n : graph_.nodes())
    if (n.module) transforms_of(n.name, *n.module);
  net_->visit_modules(transforms_of);
}

void Model::visit_state(const std::function<void(const std::string&, StateTensor&)>& fn) {
  visit_state_owners([&](const std::string& prefix, StateOwner& owner) {
    owner.visit_state({[&](const std::string& local, StateTensor& t) { fn(prefix + "." + local, t); },
                       [](const std::string&, double&) {}});
  });
}

void Model::zero_grad() {
  grads_.fill_zero();
  visit_state([](const std::string&, StateTensor& t) {
    if (t.trainable) t.grad.fill_zero();
  });
}

void Model::reset_momentum() {
  momentum_.fill_zero();
  visit_state([](const std::string&, StateTensor& t) {
    if (t.trainable) t.momentum.fill_zero();
  });
}

void Model::reset_masks() {
  masks_.fill(1.0f);
  masks_changed();
}

void Model::masks_changed() {
  const std::vector<float> all = masks_.to_vector<float>();
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    const auto first = all.begin() + offsets_[i];
    const bool pruned = std::find(first, first + p.numel(), 0.0f) != first + p.numel();
    ParametrizationChain& chain = p.parametrizations;
    const bool attached = !chain.empty() && chain.links().front()->describe() == MaskParametrization::kKind;
    if (pruned && !attached) chain.insert_front(std::make_unique<MaskParametrization>());
    if (!pruned && attached) chain.remove(MaskParametrization::kKind);
  }
}

}  // namespace bmc::nn
