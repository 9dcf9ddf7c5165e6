// The CUDA implementation behind ops/adam.h's dispatch (built only with CUDA).
#pragma once

#include "ops/adam.h"

namespace bmc::ops {

void adam_step_cuda(Tensor& w, Tensor& m, Tensor& v, Tensor& vmax, const Tensor& g, const AdamHyper& hyper);

}  // namespace bmc::ops
