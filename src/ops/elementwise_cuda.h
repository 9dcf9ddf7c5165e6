// The CUDA implementations behind ops/elementwise.h's dispatch (defined in elementwise_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "ops/elementwise.h"

namespace bmc::ops {

void add_forward_cuda(Tensor& y, const Tensor& a, const Tensor& b);
void axpy_cuda(Tensor& y, float alpha, const Tensor& x);
void scale_cuda(Tensor& y, float alpha);
void clamp_cuda(Tensor& y, float lo, float hi);
void add_to_counter_cuda(Tensor& y, int64_t v);
void add_channel_bias_cuda(Tensor& y, const Tensor& b, int64_t outer, int64_t channels, int64_t inner);

}  // namespace bmc::ops
