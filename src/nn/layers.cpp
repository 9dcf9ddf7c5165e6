#include "nn/layers.h"

#include <algorithm>

#include "ops/linear.h"
#include "ops/relu.h"

namespace bmc::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : ParamLayer("Linear"), weight_(add_parameter("weight", {out_features, in_features}, ParamKind::Weight, in_features)) {
  if (bias) bias_ = &add_parameter("bias", {out_features}, ParamKind::Bias, in_features);
}

Tensor Linear::forward_impl(const Tensor& x) {
  BMC_CHECK(x.rank() == 2 && x.dim(1) == weight_.shape[1], "Linear: expected input (N, ", weight_.shape[1],
            "), got ", x.describe());
  if (LayerKernel* k = kernel()) return k->forward(x);
  x_ = x.view(x.shape());
  Tensor y({x.dim(0), weight_.shape[0]}, DType::F32, x.device());
  static const Tensor kNoBias;
  const Tensor& w = weight_.effective();
  ops::linear_forward(y, x, w, bias_ ? bias_->effective() : kNoBias);
  w_ = w.view(w.shape());
  return y;
}

Tensor Linear::backward_impl(const Tensor& dy) {
  check_no_kernel();
  Tensor dx(x_.shape(), DType::F32, dy.device());
  Tensor no_bias;
  ops::linear_backward(dx, weight_.effective_grad(), bias_ ? bias_->effective_grad() : no_bias, dy, x_, w_);
  weight_.finish_backward();
  if (bias_) bias_->finish_backward();
  x_ = Tensor();
  w_ = Tensor();
  return dx;
}

Tensor ReLU::forward_impl(const Tensor& x) {
  Tensor y(x.shape(), DType::F32, x.device());
  ops::relu_forward(y, x);
  y_ = y.view(y.shape());
  return y;
}

Tensor ReLU::backward_impl(const Tensor& dy) {
  Tensor dx(dy.shape(), DType::F32, dy.device());
  ops::relu_backward(dx, dy, y_);
  y_ = Tensor();
  return dx;
}

Tensor Flatten::forward_impl(const Tensor& x) {
  input_shape_ = x.shape();
  return x.view({x.dim(0), x.numel() / std::max<int64_t>(1, x.dim(0))});
}

Tensor Flatten::backward_impl(const Tensor& dy) { return dy.view(input_shape_); }

}  // namespace bmc::nn
