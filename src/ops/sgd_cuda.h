// The CUDA implementations behind ops/sgd.h's dispatch (defined in sgd_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/sgd.h"

namespace bmc::ops {

void masked_sgd_step_cuda(Tensor& w, Tensor& m, const Tensor& g, const Tensor& mask, const SgdHyper& hyper);
void clamped_sgd_step_cuda(Tensor& w, Tensor& m, const Tensor& g, const SgdHyper& hyper, float lo, float hi);

}  // namespace bmc::ops
