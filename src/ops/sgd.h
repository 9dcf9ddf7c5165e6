// The fused masked SGD step over flat buffers (see kernels/sgd.cuh for the exact math).
#pragma once

#include "core/tensor.h"
#include "kernels/sgd.cuh"

namespace bmc::ops {

// w, m: (n) f32 updated in place; g, mask: (n) f32. One device.
void masked_sgd_step(Tensor& w, Tensor& m, const Tensor& g, const Tensor& mask, const SgdHyper& hyper);
// The same update without a mask, each weight then clamped to [lo, hi] (infinite bounds: none):
// bitwise masked_sgd_step with an all-ones mask followed by ops::clamp, in one pass.
void clamped_sgd_step(Tensor& w, Tensor& m, const Tensor& g, const SgdHyper& hyper, float lo, float hi);

}  // namespace bmc::ops
