#include "optim/sgd.h"

#include "ops/sgd.h"

namespace bmc::optim {

void Sgd::step(float lr) {
  const SgdHyper hyper{lr, options_.momentum, options_.weight_decay, options_.nesterov};
  ops::masked_sgd_step(model_.values(), model_.momentum(), model_.grads(), model_.masks(), hyper);
}

}  // namespace bmc::optim
