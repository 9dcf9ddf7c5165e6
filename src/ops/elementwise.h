// Elementwise arithmetic used by residual blocks and gradient accumulation.
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// y = a + b (same shape, f32). y may alias a or b.
void add_forward(Tensor& y, const Tensor& a, const Tensor& b);
// y += alpha * x (same shape, f32): gradient accumulation at branch points, scaling.
void axpy(Tensor& y, float alpha, const Tensor& x);
// y *= alpha.
void scale(Tensor& y, float alpha);
// y = clamp(y, lo, hi) in place.
void clamp(Tensor& y, float lo, float hi);

}  // namespace bmc::ops
