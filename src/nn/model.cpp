#include "nn/model.h"

namespace bmc::nn {

Model::Model(std::string arch, std::unique_ptr<Module> net, Device device)
    : arch_(std::move(arch)), net_(std::move(net)), device_(device) {
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
}

Parameter& Model::parameter(const std::string& name) {
  for (Parameter* p : params_)
    if (p->name == name) return *p;
  BMC_FAIL(arch_, " has no parameter named '", name, "'");
}

void Model::zero_grad() { grads_.fill_zero(); }

void Model::reset_momentum() { momentum_.fill_zero(); }

void Model::reset_masks() { masks_.fill(1.0f); }

}  // namespace bmc::nn
