// The CUDA implementations behind ops/linear.h's dispatch (defined in linear_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/linear.h"

namespace bmc::ops {

void linear_forward_cuda(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b);
void linear_backward_cuda(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                          const Tensor& w);

}  // namespace bmc::ops
