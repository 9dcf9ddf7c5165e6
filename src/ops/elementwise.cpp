#include "ops/elementwise.h"

#include <algorithm>

#if BMC_HAS_CUDA
#include "ops/elementwise_cuda.h"
#include "ops/relu_cuda.h"
#endif

#include "core/vector_loops.h"
#include "kernels/activation.cuh"
#include "kernels/elementwise.cuh"
#include "ops/check.h"

namespace bmc::ops {

namespace {

constexpr int64_t kParallelThreshold = 65536;

BMC_VECTOR_LOOPS void add_cpu(float* y, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = add_value(a[i], b[i]);
}

BMC_VECTOR_LOOPS void add_relu_cpu(float* y, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = relu(add_value(a[i], b[i]));
}

#if BMC_HAS_CUDA
// Our add kernel, then the ReLU kernel in place: the same values, one more pass.
void add_relu_cuda(Tensor& y, const Tensor& a, const Tensor& b) {
  add_forward_cuda(y, a, b);
  relu_forward_cuda(y, y);
}
#endif

BMC_VECTOR_LOOPS void axpy_cpu(float* y, float alpha, const float* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = axpy_value(y[i], alpha, x[i]);
}

BMC_VECTOR_LOOPS void scale_cpu(float* y, float alpha, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = scale_value(y[i], alpha);
}

BMC_VECTOR_LOOPS void clamp_cpu(float* y, float lo, float hi, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = clamp_value(y[i], lo, hi);
}

}  // namespace

void add_forward(Tensor& y, const Tensor& a, const Tensor& b) {
  check_dtype("add_forward", "a", a, DType::F32);
  check_dtype("add_forward", "b", b, DType::F32);
  check_shape("add_forward", "b", b, a.shape());
  check_dtype("add_forward", "y", y, DType::F32);
  check_shape("add_forward", "y", y, a.shape());
  check_same_device("add_forward", {&y, &a, &b});
  if (a.device().is_cuda()) return BMC_DISPATCH_CUDA(add_forward_cuda(y, a, b));
  add_cpu(y.data<float>(), a.data<float>(), b.data<float>(), a.numel());
}

void add_relu_forward(Tensor& y, const Tensor& a, const Tensor& b) {
  check_dtype("add_relu_forward", "a", a, DType::F32);
  check_dtype("add_relu_forward", "b", b, DType::F32);
  check_shape("add_relu_forward", "b", b, a.shape());
  check_dtype("add_relu_forward", "y", y, DType::F32);
  check_shape("add_relu_forward", "y", y, a.shape());
  check_same_device("add_relu_forward", {&y, &a, &b});
  if (a.device().is_cuda()) return BMC_DISPATCH_CUDA(add_relu_cuda(y, a, b));
  add_relu_cpu(y.data<float>(), a.data<float>(), b.data<float>(), a.numel());
}

void axpy(Tensor& y, float alpha, const Tensor& x) {
  check_dtype("axpy", "x", x, DType::F32);
  check_dtype("axpy", "y", y, DType::F32);
  check_shape("axpy", "y", y, x.shape());
  check_same_device("axpy", {&y, &x});
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(axpy_cuda(y, alpha, x));
  axpy_cpu(y.data<float>(), alpha, x.data<float>(), x.numel());
}

void scale(Tensor& y, float alpha) {
  check_dtype("scale", "y", y, DType::F32);
  if (y.device().is_cuda()) return BMC_DISPATCH_CUDA(scale_cuda(y, alpha));
  scale_cpu(y.data<float>(), alpha, y.numel());
}

void add_to_counter(Tensor& y, int64_t v) {
  check_dtype("add_to_counter", "y", y, DType::I64);
  if (y.device().is_cuda()) return BMC_DISPATCH_CUDA(add_to_counter_cuda(y, v));
  int64_t* p = y.data<int64_t>();
  for (int64_t i = 0; i < y.numel(); ++i) p[i] += v;
}

void clamp(Tensor& y, float lo, float hi) {
  check_dtype("clamp", "y", y, DType::F32);
  BMC_CHECK(!(lo > hi), "clamp: lower bound ", lo, " above upper bound ", hi);
  if (y.device().is_cuda()) return BMC_DISPATCH_CUDA(clamp_cuda(y, lo, hi));
  clamp_cpu(y.data<float>(), lo, hi, y.numel());
}

BMC_VECTOR_LOOPS void add_channel_bias(Tensor& y, const Tensor& b) {
  check_dtype("add_channel_bias", "y", y, DType::F32);
  check_dtype("add_channel_bias", "b", b, DType::F32);
  BMC_CHECK(y.rank() >= 2 && b.rank() == 1 && b.dim(0) == y.dim(1), "add_channel_bias: bias ", b.describe(),
            " does not match the channels of ", y.describe());
  check_same_device("add_channel_bias", {&y, &b});
  const int64_t outer = y.dim(0), channels = y.dim(1), inner = y.numel() / std::max<int64_t>(1, outer * channels);
  if (y.device().is_cuda()) return BMC_DISPATCH_CUDA(add_channel_bias_cuda(y, b, outer, channels, inner));
  float* py = y.data<float>();
  const float* pb = b.data<float>();
#pragma omp parallel for schedule(static) if (y.numel() > kParallelThreshold)
  for (int64_t oc = 0; oc < outer * channels; ++oc) {
    const float bias = pb[oc % channels];
#pragma omp simd
    for (int64_t i = 0; i < inner; ++i) py[oc * inner + i] += bias;
  }
}

}  // namespace bmc::ops
