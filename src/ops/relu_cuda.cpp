// ReLU on CUDA through cuDNN's activation API.
#include "core/cuda_context.h"
#include "ops/relu_cuda.h"

namespace bmc::ops {
namespace {

cuda::ActivationDescHandle relu_desc() {
  cudnnActivationDescriptor_t d = nullptr;
  BMC_CUDNN_CHECK(cudnnCreateActivationDescriptor(&d));
  cuda::ActivationDescHandle handle(d);
  BMC_CUDNN_CHECK(cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
  return handle;
}

// cuDNN sees the tensor as a flat (1, 1, 1, n) vector; n is bounded by int by cuDNN's API.
cuda::TensorDescHandle flat_desc(const Tensor& t) {
  BMC_CHECK(t.numel() <= INT32_MAX, "relu: ", t.numel(), " elements exceed cuDNN's int range");
  return cuda::make_tensor_desc(1, 1, 1, static_cast<int>(t.numel()));
}

}  // namespace

void relu_forward_cuda(Tensor& y, const Tensor& x) {
  if (x.numel() == 0) return;
  auto& ctx = cuda::context(x.device());
  const auto act = relu_desc();
  const auto desc = flat_desc(x);
  const float one = 1.0f, zero = 0.0f;
  BMC_CUDNN_CHECK(cudnnActivationForward(ctx.cudnn, act, &one, desc, x.raw(), &zero, desc, y.raw()));
}

void relu_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& y) {
  if (dy.numel() == 0) return;
  auto& ctx = cuda::context(dy.device());
  const auto act = relu_desc();
  const auto desc = flat_desc(dy);
  const float one = 1.0f, zero = 0.0f;
  // cuDNN's ReLU backward reads y (and x, for which y serves: both are > 0 at the same places).
  BMC_CUDNN_CHECK(cudnnActivationBackward(ctx.cudnn, act, &one, desc, y.raw(), desc, dy.raw(), desc,
                                          y.raw(), &zero, desc, dx.raw()));
}

}  // namespace bmc::ops
