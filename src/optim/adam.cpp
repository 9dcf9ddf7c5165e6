#include "optim/adam.h"

#include <cmath>

#include "ops/adam.h"

namespace bmc::optim {

Adam::Adam(std::vector<nn::Parameter*> params, AdamOptions options) : params_(std::move(params)), options_(options) {
  for (nn::Parameter* p : params_) {
    const Shape& s = p->value.shape();
    const Device d = p->value.device();
    moments_.push_back({Tensor::zeros(s, DType::F32, d), Tensor::zeros(s, DType::F32, d), Tensor::zeros(s, DType::F32, d)});
  }
}

void Adam::step(float lr) {
  ++steps_;
  const double t = static_cast<double>(steps_);
  AdamHyper h;
  h.lr = lr;
  h.beta1 = options_.beta1;
  h.beta2 = options_.beta2;
  h.eps = options_.eps;
  h.amsgrad = options_.amsgrad;
  h.step_size = static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(options_.beta1), t)));
  h.bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(options_.beta2), t)));
  for (size_t i = 0; i < params_.size(); ++i)
    ops::adam_step(params_[i]->value, moments_[i].m, moments_[i].v, moments_[i].vmax, params_[i]->grad, h);
}

}  // namespace bmc::optim
