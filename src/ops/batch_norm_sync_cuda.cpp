// Synchronised batch norm on CUDA: our kernels (kernels/batch_norm_sync.cu) with the cross-shard
// sums between them, the sums staying on the device (NCCL reduces them in stream order) and only
// the element count reduced on the host, where it is known without a device round trip.
#include "core/cuda_context.h"
#include "kernels/batch_norm_sync.h"
#include "ops/batch_norm_cuda.h"

namespace bmc::ops {
namespace {

struct BnView {
  int64_t outer, channels, inner;
};

BnView view_of(const Tensor& x) { return {x.dim(0), x.dim(1), x.rank() == 4 ? x.dim(2) * x.dim(3) : 1}; }

// The element count per channel over every shard.
double global_count(const BnView& v, const CrossShardSum& across) {
  double count = static_cast<double>(v.outer * v.inner);
  across.host(&count, 1);
  return count;
}

}  // namespace

void batch_norm_forward_train_across_cuda(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                                          const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                          Tensor& running_var, float momentum, float eps, const CrossShardSum& across) {
  const BnView v = view_of(x);
  const double count = global_count(v, across);
  BMC_CHECK(count > 1, "batch_norm_forward_train: training needs more than one value per channel over all shards");
  auto stream = cuda::context(x.device()).stream.get();
  Tensor sums({v.channels}, DType::F32, x.device()), squares({v.channels}, DType::F32, x.device());
  kernels::bn_channel_sums(sums.data<float>(), x.data<float>(), v.outer, v.channels, v.inner, stream);
  across.device(sums);
  kernels::bn_channel_squares(squares.data<float>(), x.data<float>(), sums.data<float>(), count, v.outer, v.channels,
                              v.inner, stream);
  across.device(squares);
  kernels::bn_finish_stats(saved_mean.data<float>(), saved_invstd.data<float>(), running_mean.data<float>(),
                           running_var.data<float>(), sums.data<float>(), squares.data<float>(), count, momentum, eps,
                           v.channels, stream);
  kernels::bn_normalize(y.data<float>(), x.data<float>(), saved_mean.data<float>(), saved_invstd.data<float>(),
                        gamma.data<float>(), beta.data<float>(), v.outer, v.channels, v.inner, stream);
}

void batch_norm_backward_across_cuda(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                                     const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd,
                                     const CrossShardSum& across) {
  const BnView v = view_of(x);
  const double count = global_count(v, across);
  auto stream = cuda::context(x.device()).stream.get();
  Tensor grad_sums({2 * v.channels}, DType::F32, x.device());
  kernels::bn_backward_sums(grad_sums.data<float>(), dgamma.data<float>(), dbeta.data<float>(), dy.data<float>(),
                            x.data<float>(), saved_mean.data<float>(), saved_invstd.data<float>(), v.outer, v.channels,
                            v.inner, stream);
  across.device(grad_sums);
  kernels::bn_backward_input(dx.data<float>(), dy.data<float>(), x.data<float>(), saved_mean.data<float>(),
                             saved_invstd.data<float>(), gamma.data<float>(), grad_sums.data<float>(), count, v.outer,
                             v.channels, v.inner, stream);
}

}  // namespace bmc::ops
