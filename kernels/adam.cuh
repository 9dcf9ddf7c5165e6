// Adam (Kingma and Ba) with PyTorch's torch.optim.Adam semantics, AMSGrad optional, one element
// at a time:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v) (AMSGrad)
//   w = w - (lr / (1 - b1^t)) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
// The step-dependent bias corrections come precomputed in AdamHyper. mul_rn/add_rn keep nvcc from
// fusing, so CPU and GPU agree bitwise.
#pragma once

#include <cmath>

#include "kernels/compat.cuh"

namespace bmc {

struct AdamHyper {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  bool amsgrad = false;
  float step_size = 1e-3f;     // lr / (1 - b1^t)
  float bias2_sqrt = 1.0f;     // sqrt(1 - b2^t)
};

BMC_HD void adam_update(float& w, float& m, float& v, float& vmax, float g, const AdamHyper& h) {
  m = add_rn(mul_rn(m, h.beta1), mul_rn(g, 1.0f - h.beta1));
  v = add_rn(mul_rn(v, h.beta2), mul_rn(mul_rn(g, g), 1.0f - h.beta2));
  float second = v;
  if (h.amsgrad) {
    vmax = fmaxf(vmax, v);
    second = vmax;
  }
  const float denom = add_rn(sqrtf(second) / h.bias2_sqrt, h.eps);
  w = add_rn(w, mul_rn(-h.step_size, m / denom));
}

}  // namespace bmc
