// Masked SGD update, PyTorch torch.optim.SGD semantics (dampening 0), one element at a time:
//   g' = g + wd * w;  m = mu * m + g';  d = nesterov ? g' + mu * m : m;  w = w - lr * d
// then masked elements are forced to exactly +0 in both w and m, so pruned weights and their
// momentum stay zero forever. With mu = 0 the buffer just holds g' and d = g', as in PyTorch.
// mul_rn/add_rn keep nvcc from fusing into FMAs, so CPU and GPU agree bitwise.
#pragma once

#include "kernels/compat.cuh"
#include "kernels/elementwise.cuh"

namespace bmc {

struct SgdHyper {
  float lr = 0.1f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
  // When set, the update reads its learning rate here as it runs, not from `lr`: a captured step
  // replays with each step's value (on the update's device).
  const float* lr_source = nullptr;
};

// The hyperparameters as the update runs them.
BMC_HD SgdHyper resolved(SgdHyper h) {
  if (h.lr_source != nullptr) h.lr = *h.lr_source;
  return h;
}

BMC_HD void masked_sgd_update(float& w, float& m, float g, float mask, const SgdHyper& h) {
  const float gd = add_rn(g, mul_rn(h.weight_decay, w));
  const float buf = add_rn(mul_rn(h.momentum, m), gd);
  const float d = h.nesterov ? add_rn(gd, mul_rn(h.momentum, buf)) : buf;
  const float updated = add_rn(w, mul_rn(-h.lr, d));
  const bool keep = mask != 0.0f;
  w = keep ? updated : 0.0f;
  m = keep ? buf : 0.0f;
}

// The unmasked update of a trainable state tensor, then its clamp to [lo, hi] (infinite bounds: no
// clamp): bitwise masked_sgd_update with mask 1 followed by clamp_value, in one pass.
BMC_HD void clamped_sgd_update(float& w, float& m, float g, const SgdHyper& h, float lo, float hi) {
  masked_sgd_update(w, m, g, 1.0f, h);
  w = clamp_value(w, lo, hi);
}

}  // namespace bmc
