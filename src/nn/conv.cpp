#include "nn/conv.h"

namespace bmc::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, int stride, int padding, bool bias)
    : ParamLayer("Conv2d"),
      weight_(add_parameter("weight", {out_channels, in_channels, kernel_size, kernel_size}, ParamKind::Weight,
                            in_channels * kernel_size * kernel_size)) {
  params_.stride_h = params_.stride_w = stride;
  params_.pad_h = params_.pad_w = padding;
  if (bias) bias_ = &add_parameter("bias", {out_channels}, ParamKind::Bias, weight_.fan_in);
}

Tensor Conv2d::forward_impl(const Tensor& x) {
  BMC_CHECK(x.rank() == 4 && x.dim(1) == weight_.shape[1], "Conv2d: expected input (N, ", weight_.shape[1],
            ", H, W), got ", x.describe());
  ran_epilogue_ = false;
  if (LayerKernel* k = kernel()) return k->forward(x);
  Tensor y(ops::conv2d_output_shape(x.shape(), weight_.shape, params_), DType::F32, x.device());
  BMC_CHECK(!epilogue_ || !epilogue_->residual || residual_shape_ == y.shape(), "Conv2d: the residual ",
            residual_shape_.str(), " does not match the output ", y.shape().str());
  static const Tensor kNoBias;
  const Tensor& w = weight_.effective();
  ops::conv2d_forward(y, x, w, bias_ ? bias_->effective() : kNoBias, params_, epilogue_ ? &*epilogue_ : nullptr);
  ran_epilogue_ = epilogue_.has_value();
  x_ = x.view(x.shape());
  w_ = w.view(w.shape());
  return y;
}

void Conv2d::add_residual_to_epilogue(const Tensor& residual) {
  BMC_CHECK(epilogue_takes_residual(), "Conv2d: no batch-norm epilogue to add a residual to");
  epilogue_->residual = residual.data<float>();
  epilogue_->relu = true;
  residual_shape_ = residual.shape();
}

Tensor Conv2d::backward_impl(const Tensor& dy) {
  check_no_kernel();
  BMC_CHECK(!ran_epilogue_, "Conv2d.backward after an eval-mode forward that ran the batch norm after it; "
            "train through a training-mode forward");
  Tensor dx(x_.shape(), DType::F32, dy.device());
  Tensor no_bias;
  ops::conv2d_backward(dx, weight_.effective_grad(), bias_ ? bias_->effective_grad() : no_bias, dy, x_, w_, params_);
  weight_.finish_backward();
  if (bias_) bias_->finish_backward();
  x_ = Tensor();
  w_ = Tensor();
  return dx;
}

}  // namespace bmc::nn
