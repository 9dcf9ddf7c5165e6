#include "nn/batch_norm.h"

#include "dist/communicator.h"
#include "ops/batch_norm.h"
#include "ops/elementwise.h"

namespace bmc::nn {
namespace {

// Synchronised batch norm (dist::sync_batch_norm()): the sums of every data-parallel rank.
const ops::CrossShardSum* across_ranks() {
  static const ops::CrossShardSum sum{[](double* values, int64_t n) { dist::world().all_reduce_sum(values, n); },
                                      [](Tensor& sums) { dist::world().all_reduce_sum(sums); }};
  return dist::sync_batch_norm() ? &sum : nullptr;
}

}  // namespace

BatchNorm2d::BatchNorm2d(int64_t channels)
    : Module("BatchNorm2d"),
      weight_(add_parameter("weight", {channels}, ParamKind::BnWeight, 1)),
      bias_(add_parameter("bias", {channels}, ParamKind::BnBias, 1)),
      running_mean_(add_buffer("running_mean", {channels}, DType::F32, 0.0f)),
      running_var_(add_buffer("running_var", {channels}, DType::F32, 1.0f)),
      num_batches_tracked_(add_buffer("num_batches_tracked", {}, DType::I64)) {}

Tensor BatchNorm2d::forward_impl(const Tensor& x) {
  const int64_t c = weight_.shape[0];
  BMC_CHECK(x.rank() == 4 && x.dim(1) == c, "BatchNorm2d: expected input (N, ", c, ", H, W), got ",
            x.describe());
  Tensor y(x.shape(), DType::F32, x.device());
  if (!training()) {
    const auto normalize = relu_fused_ ? ops::batch_norm_relu_forward_eval : ops::batch_norm_forward_eval;
    normalize(y, x, weight_.value, bias_.value, running_mean_.value, running_var_.value, kEps);
    return y;
  }
  saved_mean_ = Tensor({c}, DType::F32, x.device());
  saved_invstd_ = Tensor({c}, DType::F32, x.device());
  const auto normalize = relu_fused_ ? ops::batch_norm_relu_forward_train : ops::batch_norm_forward_train;
  normalize(y, saved_mean_, saved_invstd_, x, weight_.value, bias_.value, running_mean_.value, running_var_.value,
            kMomentum, kEps, across_ranks());
  ops::add_to_counter(num_batches_tracked_.value, 1);
  x_ = x.view(x.shape());
  relu_y_ = relu_fused_ ? y.view(y.shape()) : Tensor();
  return y;
}

Tensor BatchNorm2d::backward_impl(const Tensor& dy) {
  BMC_CHECK(x_.defined(), "BatchNorm2d.backward needs a training-mode forward");
  Tensor dx(x_.shape(), DType::F32, dy.device());
  if (relu_y_.defined())
    ops::batch_norm_relu_backward(dx, weight_.grad, bias_.grad, dy, relu_y_, x_, weight_.value, saved_mean_,
                                  saved_invstd_, kEps, across_ranks());
  else
    ops::batch_norm_backward(dx, weight_.grad, bias_.grad, dy, x_, weight_.value, saved_mean_, saved_invstd_, kEps,
                             across_ranks());
  x_ = Tensor();
  relu_y_ = Tensor();
  return dx;
}

ops::ConvEpilogue BatchNorm2d::eval_epilogue(bool relu) const {
  return {ops::batch_norm_eval_affine(weight_.value, bias_.value, running_mean_.value, running_var_.value, kEps),
          relu};
}

}  // namespace bmc::nn
