// The CUDA implementations behind ops/conv2d.h's dispatch (defined in conv2d_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/conv2d.h"

namespace bmc::ops {

void conv2d_forward_cuda(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p);
void conv2d_backward_cuda(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                          const Tensor& w, const Conv2dParams& p);

}  // namespace bmc::ops
