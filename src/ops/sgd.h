// The fused masked SGD step over flat buffers (see kernels/sgd.cuh for the exact math).
#pragma once

#include "core/tensor.h"
#include "kernels/sgd.cuh"

namespace bmc::ops {

// w, m: (n) f32 updated in place; g, mask: (n) f32. One device.
void masked_sgd_step(Tensor& w, Tensor& m, const Tensor& g, const Tensor& mask, const SgdHyper& hyper);

}  // namespace bmc::ops
