#include "ops/relu.h"

#if BMC_HAS_CUDA
#include "ops/relu_cuda.h"
#endif

#include "core/vector_loops.h"
#include "kernels/activation.cuh"
#include "ops/check.h"

namespace bmc::ops {

namespace {

BMC_VECTOR_LOOPS void relu_forward_cpu(float* y, const float* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = relu(x[i]);
}

BMC_VECTOR_LOOPS void relu_backward_cpu(float* dx, const float* dy, const float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = relu_grad(dy[i], y[i]);
}

}  // namespace

void relu_forward(Tensor& y, const Tensor& x) {
  check_dtype("relu_forward", "x", x, DType::F32);
  check_shape("relu_forward", "y", y, x.shape());
  check_same_device("relu_forward", {&y, &x});
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(relu_forward_cuda(y, x));
  relu_forward_cpu(y.data<float>(), x.data<float>(), x.numel());
}

void relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y) {
  check_dtype("relu_backward", "dy", dy, DType::F32);
  check_shape("relu_backward", "y", y, dy.shape());
  check_shape("relu_backward", "dx", dx, dy.shape());
  check_same_device("relu_backward", {&dx, &dy, &y});
  if (dy.device().is_cuda()) return BMC_DISPATCH_CUDA(relu_backward_cuda(dx, dy, y));
  relu_backward_cpu(dx.data<float>(), dy.data<float>(), y.data<float>(), dy.numel());
}

}  // namespace bmc::ops
