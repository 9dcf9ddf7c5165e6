// Elementwise ops on CUDA: launches of kernels/elementwise.cu and kernels/bias.cu on the device's stream.
#include "core/cuda_context.h"
#include "kernels/bias.h"
#include "kernels/elementwise.h"
#include "ops/elementwise_cuda.h"

namespace bmc::ops {

void add_forward_cuda(Tensor& y, const Tensor& a, const Tensor& b) {
  auto& ctx = cuda::context(a.device());
  kernels::add(y.data<float>(), a.data<float>(), b.data<float>(), a.numel(), ctx.stream);
}

void axpy_cuda(Tensor& y, float alpha, const Tensor& x) {
  auto& ctx = cuda::context(x.device());
  kernels::axpy(y.data<float>(), alpha, x.data<float>(), x.numel(), ctx.stream);
}

void scale_cuda(Tensor& y, float alpha) {
  auto& ctx = cuda::context(y.device());
  kernels::scale(y.data<float>(), alpha, y.numel(), ctx.stream);
}

void clamp_cuda(Tensor& y, float lo, float hi) {
  auto& ctx = cuda::context(y.device());
  kernels::clamp(y.data<float>(), lo, hi, y.numel(), ctx.stream);
}

void add_to_counter_cuda(Tensor& y, int64_t v) {
  kernels::add_i64(y.data<int64_t>(), v, y.numel(), cuda::context(y.device()).stream);
}

void add_channel_bias_cuda(Tensor& y, const Tensor& b, int64_t outer, int64_t channels, int64_t inner) {
  kernels::add_channel_bias(y.data<float>(), b.data<float>(), outer, channels, inner, cuda::context(y.device()).stream);
}

}  // namespace bmc::ops
