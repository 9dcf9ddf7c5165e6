// Pooling on CUDA: cuDNN. Max pooling uses CUDNN_POOLING_MAX_DETERMINISTIC (each input gradient is
// written in a fixed order) and propagates NaN like the CPU path; average pooling counts padded
// zeros (CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, PyTorch's default). Global average pooling is
// average pooling with one window covering the whole (H, W), its (N, C, 1, 1) output being the
// (N, C) tensor's memory.
#include "core/cuda_context.h"
#include "ops/pool_cuda.h"

namespace bmc::ops {
namespace {

cuda::PoolingDescHandle make_pool_desc(cudnnPoolingMode_t mode, int kh, int kw, int ph, int pw, int sh, int sw) {
  cudnnPoolingDescriptor_t desc = nullptr;
  BMC_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&desc));
  cuda::PoolingDescHandle handle(desc);
  BMC_CUDNN_CHECK(cudnnSetPooling2dDescriptor(desc, mode, CUDNN_PROPAGATE_NAN, kh, kw, ph, pw, sh, sw));
  return handle;
}

cuda::PoolingDescHandle make_pool_desc(cudnnPoolingMode_t mode, const Pool2dParams& p) {
  return make_pool_desc(mode, p.kernel_h, p.kernel_w, p.pad_h, p.pad_w, p.stride_h, p.stride_w);
}

cuda::TensorDescHandle desc_of(const Tensor& t) {
  return cuda::make_tensor_desc(static_cast<int>(t.dim(0)), static_cast<int>(t.dim(1)),
                                t.rank() > 2 ? static_cast<int>(t.dim(2)) : 1,
                                t.rank() > 3 ? static_cast<int>(t.dim(3)) : 1);
}

void pool_forward(cudnnPoolingDescriptor_t pool, Tensor& y, const Tensor& x) {
  if (x.numel() == 0) return;
  auto& ctx = cuda::context(x.device());
  const auto xd = desc_of(x), yd = desc_of(y);
  const float one = 1.0f, zero = 0.0f;
  BMC_CUDNN_CHECK(cudnnPoolingForward(ctx.cudnn, pool, &one, xd, x.raw(), &zero, yd, y.raw()));
}

// For average pooling cuDNN reads neither y nor x; dy and dx stand in for them (same shapes).
void pool_backward(cudnnPoolingDescriptor_t pool, Tensor& dx, const Tensor& dy, const Tensor* x, const Tensor* y) {
  if (dx.numel() == 0) return;
  auto& ctx = cuda::context(dx.device());
  const auto xd = desc_of(dx), yd = desc_of(dy);
  const float one = 1.0f, zero = 0.0f;
  BMC_CUDNN_CHECK(cudnnPoolingBackward(ctx.cudnn, pool, &one, yd, y ? y->raw() : dy.raw(), yd, dy.raw(), xd,
                                       x ? x->raw() : dx.raw(), &zero, xd, dx.raw()));
}

cuda::PoolingDescHandle global_pool_desc(const Tensor& x) {
  const int h = static_cast<int>(x.dim(2)), w = static_cast<int>(x.dim(3));
  return make_pool_desc(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, h, w, 0, 0, h, w);
}

}  // namespace

void max_pool2d_forward_cuda(Tensor& y, const Tensor& x, const Pool2dParams& p) {
  pool_forward(make_pool_desc(CUDNN_POOLING_MAX_DETERMINISTIC, p), y, x);
}

void max_pool2d_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& y,
                              const Pool2dParams& p) {
  pool_backward(make_pool_desc(CUDNN_POOLING_MAX_DETERMINISTIC, p), dx, dy, &x, &y);
}

void avg_pool2d_forward_cuda(Tensor& y, const Tensor& x, const Pool2dParams& p) {
  pool_forward(make_pool_desc(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, p), y, x);
}

void avg_pool2d_backward_cuda(Tensor& dx, const Tensor& dy, const Pool2dParams& p) {
  pool_backward(make_pool_desc(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, p), dx, dy, nullptr, nullptr);
}

void global_avg_pool_forward_cuda(Tensor& y, const Tensor& x) { pool_forward(global_pool_desc(x), y, x); }

void global_avg_pool_backward_cuda(Tensor& dx, const Tensor& dy) {
  pool_backward(global_pool_desc(dx), dx, dy, nullptr, nullptr);
}

}  // namespace bmc::ops
