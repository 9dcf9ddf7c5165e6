#include "nn/pool.h"

namespace bmc::nn {

namespace {

ops::Pool2dParams square_pool(int kernel_size, int stride, int padding) {
  ops::Pool2dParams p;
  p.kernel_h = p.kernel_w = kernel_size;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = padding;
  return p;
}

}  // namespace

MaxPool2d::MaxPool2d(int kernel_size, int stride, int padding)
    : Module("MaxPool2d"), params_(square_pool(kernel_size, stride, padding)) {}

Tensor MaxPool2d::forward_impl(const Tensor& x) {
  Tensor y(ops::pool2d_output_shape(x.shape(), params_), DType::F32, x.device());
  ops::max_pool2d_forward(y, x, params_);
  x_ = x.view(x.shape());
  y_ = y.view(y.shape());
  return y;
}

Tensor MaxPool2d::backward_impl(const Tensor& dy) {
  Tensor dx(x_.shape(), DType::F32, dy.device());
  ops::max_pool2d_backward(dx, dy, x_, y_, params_);
  x_ = Tensor();
  y_ = Tensor();
  return dx;
}

AvgPool2d::AvgPool2d(int kernel_size, int stride, int padding)
    : Module("AvgPool2d"), params_(square_pool(kernel_size, stride, padding)) {}

Tensor AvgPool2d::forward_impl(const Tensor& x) {
  Tensor y(ops::pool2d_output_shape(x.shape(), params_), DType::F32, x.device());
  ops::avg_pool2d_forward(y, x, params_);
  input_shape_ = x.shape();
  return y;
}

Tensor AvgPool2d::backward_impl(const Tensor& dy) {
  Tensor dx(input_shape_, DType::F32, dy.device());
  ops::avg_pool2d_backward(dx, dy, params_);
  return dx;
}

Tensor GlobalAvgPool::forward_impl(const Tensor& x) {
  BMC_CHECK(x.rank() == 4, "GlobalAvgPool: expected input (N, C, H, W), got ", x.describe());
  Tensor y({x.dim(0), x.dim(1)}, DType::F32, x.device());
  ops::global_avg_pool_forward(y, x);
  input_shape_ = x.shape();
  return y;
}

Tensor GlobalAvgPool::backward_impl(const Tensor& dy) {
  Tensor dx(input_shape_, DType::F32, dy.device());
  ops::global_avg_pool_backward(dx, dy);
  return dx;
}

}  // namespace bmc::nn
