// One Adam update over a tensor (kernels/adam.cuh for the exact math).
#pragma once

#include "core/tensor.h"
#include "kernels/adam.cuh"

namespace bmc::ops {

// w, m, v, vmax: f32 of one shape, updated in place from g. One device.
void adam_step(Tensor& w, Tensor& m, Tensor& v, Tensor& vmax, const Tensor& g, const AdamHyper& hyper);

}  // namespace bmc::ops
