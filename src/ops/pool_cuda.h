// The CUDA implementations behind ops/pool.h's dispatch (defined in pool_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/pool.h"

namespace bmc::ops {

void max_pool2d_forward_cuda(Tensor& y, const Tensor& x, const Pool2dParams& p);
void max_pool2d_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& y,
                              const Pool2dParams& p);
void avg_pool2d_forward_cuda(Tensor& y, const Tensor& x, const Pool2dParams& p);
void avg_pool2d_backward_cuda(Tensor& dx, const Tensor& dy, const Pool2dParams& p);
void global_avg_pool_forward_cuda(Tensor& y, const Tensor& x);
void global_avg_pool_backward_cuda(Tensor& dx, const Tensor& dy);

}  // namespace bmc::ops
