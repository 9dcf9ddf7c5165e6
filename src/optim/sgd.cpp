#include "optim/sgd.h"

#include <algorithm>

#include "ops/elementwise.h"
#include "ops/sgd.h"

namespace bmc::optim {

void Sgd::step(float lr) { apply({lr, options_.momentum, options_.weight_decay, options_.nesterov}); }

void Sgd::step(const Tensor& lr) {
  BMC_CHECK(lr.dtype() == DType::F32 && lr.numel() == 1 && lr.device() == model_.device(),
            "Sgd: the learning rate must be one f32 on ", model_.device().str(), ", got ", lr.describe());
  apply({0.0f, options_.momentum, options_.weight_decay, options_.nesterov, lr.data<float>()});
}

void Sgd::apply(const SgdHyper& hyper) {
  ops::masked_sgd_step(model_.values(), model_.momentum(), model_.grads(), model_.masks(), hyper);
  // Trainable state of parametrizations and activation transforms: the same update, per tensor,
  // with the rules each declares (weight decay or not, a clamp after the update).
  model_.visit_state([&](const std::string&, nn::StateTensor& t) {
    if (!t.trainable) return;
    if (!ones_.defined() || ones_.numel() < t.value.numel() || ones_.device() != t.value.device())
      ones_ = Tensor::full({std::max<int64_t>(t.value.numel(), ones_.defined() ? ones_.numel() : 0)}, 1.0f,
                           t.value.device());
    SgdHyper h = hyper;
    if (!t.weight_decay) h.weight_decay = 0.0f;
    const Tensor ones = ones_.slice(0, t.value.shape());
    ops::masked_sgd_step(t.value, t.momentum, t.grad, ones, h);
    if (t.clamped()) ops::clamp(t.value, t.clamp_min, t.clamp_max);
  });
}

}  // namespace bmc::optim
