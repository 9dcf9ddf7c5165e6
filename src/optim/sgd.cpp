#include "optim/sgd.h"

#include <cmath>

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
    SgdHyper h = hyper;
    if (!t.weight_decay) h.weight_decay = 0.0f;
    ops::clamped_sgd_step(t.value, t.momentum, t.grad, h, t.clamped() ? t.clamp_min : -INFINITY,
                          t.clamped() ? t.clamp_max : INFINITY);
  });
}

}  // namespace bmc::optim
