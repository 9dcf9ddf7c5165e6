// The CUDA implementations behind ops/relu.h's dispatch (defined in relu_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/relu.h"

namespace bmc::ops {

void relu_forward_cuda(Tensor& y, const Tensor& x);
void relu_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& y);

}  // namespace bmc::ops
