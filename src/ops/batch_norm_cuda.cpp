// Batch norm on CUDA through cuDNN's batch-norm API in CUDNN_BATCHNORM_SPATIAL mode (per-channel
// statistics over N, H, W). (N, C) inputs are described as (N, C, 1, 1), which makes SPATIAL
// reduce over N alone, as nn.BatchNorm1d does (PER_ACTIVATION would need a (1, C, H, W) layout).
// These entry points are deprecated in cuDNN 9 but still shipped (their warnings are opt-in).
//
// Semantics relied on (cudnn_ops.h comments and the cuDNN API reference):
// - exponentialAverageFactor = momentum: running = running * (1 - factor) + batch * factor.
// - resultRunningVariance accumulates the *unbiased* batch variance (M / (M - 1) times the one used
//   for normalisation). The header only says "moving average of variance[x]"; the unbiased factor
//   is what NVIDIA's forum reports (thread 45063, "var/(batch-size-1) for the running variances")
//   and what PyTorch relies on when it hands its running_var to cuDNN unchanged. BatchNormGpu
//   checks it against the CPU path, which follows PyTorch.
// - resultSaveMean / resultSaveInvVariance are the batch mean and 1 / sqrt(var_biased + eps),
//   exactly our saved_mean / saved_invstd, and the backward consumes them.
#include "core/cuda_context.h"
#include "ops/batch_norm_cuda.h"

namespace bmc::ops {
namespace {

struct BnDescs {
  cuda::TensorDescHandle data;     // x, y, dx, dy
  cuda::TensorDescHandle channel;  // gamma, beta, means, variances: (1, C, 1, 1)
};

BnDescs bn_descs(const Tensor& x) {
  BMC_CHECK(x.numel() <= INT32_MAX, "batch_norm: ", x.describe(), " exceeds cuDNN's int range");
  const int n = static_cast<int>(x.dim(0)), c = static_cast<int>(x.dim(1));
  const int h = x.rank() == 4 ? static_cast<int>(x.dim(2)) : 1;
  const int w = x.rank() == 4 ? static_cast<int>(x.dim(3)) : 1;
  return {cuda::make_tensor_desc(n, c, h, w), cuda::make_tensor_desc(1, c, 1, 1)};
}

void check_cudnn_eps(float eps) {
  BMC_CHECK(eps >= CUDNN_BN_MIN_EPSILON, "batch_norm on CUDA: cuDNN needs eps >= ", CUDNN_BN_MIN_EPSILON,
            ", got ", eps);
}

}  // namespace

void batch_norm_forward_train_cuda(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                                   const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                   Tensor& running_var, float momentum, float eps) {
  check_cudnn_eps(eps);
  auto& ctx = cuda::context(x.device());
  const BnDescs desc = bn_descs(x);
  const float one = 1.0f, zero = 0.0f;
  BMC_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      ctx.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, desc.data, x.raw(), desc.data, y.raw(), desc.channel,
      gamma.raw(), beta.raw(), static_cast<double>(momentum), running_mean.raw(), running_var.raw(),
      static_cast<double>(eps), saved_mean.raw(), saved_invstd.raw()));
}

void batch_norm_forward_eval_cuda(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                  const Tensor& running_mean, const Tensor& running_var, float eps) {
  check_cudnn_eps(eps);
  if (x.numel() == 0) return;
  auto& ctx = cuda::context(x.device());
  const BnDescs desc = bn_descs(x);
  const float one = 1.0f, zero = 0.0f;
  BMC_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      ctx.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, desc.data, x.raw(), desc.data, y.raw(), desc.channel,
      gamma.raw(), beta.raw(), running_mean.raw(), running_var.raw(), static_cast<double>(eps)));
}

void batch_norm_backward_cuda(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                              const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd, float eps) {
  check_cudnn_eps(eps);
  auto& ctx = cuda::context(x.device());
  const BnDescs desc = bn_descs(x);
  // dx is overwritten (alpha 1, beta 0); dgamma and dbeta accumulate (alpha 1, beta 1).
  const float one = 1.0f, zero = 0.0f;
  // cuDNN asks for the forward's epsilon here too, saved statistics or not.
  BMC_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      ctx.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &one, desc.data, x.raw(), desc.data, dy.raw(),
      desc.data, dx.raw(), desc.channel, gamma.raw(), dgamma.raw(), dbeta.raw(), static_cast<double>(eps),
      saved_mean.raw(), saved_invstd.raw()));
}

}  // namespace bmc::ops
