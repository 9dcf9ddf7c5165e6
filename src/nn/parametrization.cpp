#include "nn/parametrization.h"

#include "ops/elementwise.h"

namespace bmc::nn {

size_t ParametrizationChain::remove(const std::string& kind) {
  const size_t before = links_.size();
  std::erase_if(links_, [&](const auto& p) { return p->describe().rfind(kind, 0) == 0; });
  return before - links_.size();
}

bool ParametrizationChain::identity() const {
  for (const auto& p : links_)
    if (!p->passthrough()) return false;
  return true;
}

Tensor ParametrizationChain::forward(const Tensor& stored) {
  first_active_ = 0;
  while (first_active_ < links_.size() && links_[first_active_]->passthrough()) ++first_active_;
  Tensor w = stored.view(stored.shape());
  for (size_t i = first_active_; i < links_.size(); ++i) w = links_[i]->forward(w);
  return w;
}

void ParametrizationChain::backward(const Tensor& d_effective, Tensor& stored_grad) {
  Tensor g = d_effective.view(d_effective.shape());
  for (size_t i = links_.size(); i-- > first_active_;) g = links_[i]->backward(g);
  ops::axpy(stored_grad, 1.0f, g);
}

}  // namespace bmc::nn
