// Pooling layers (no parameters): MaxPool2d and AvgPool2d as PyTorch's (square windows), and
// GlobalAvgPool, the mean over H and W returning (N, C) directly (AdaptiveAvgPool2d(1) + flatten).
#pragma once

#include "nn/module.h"
#include "ops/pool.h"

namespace bmc::nn {

class MaxPool2d : public Module {
 public:
  NodeRole graph_role() const override { return NodeRole::Pool; }
  MaxPool2d(int kernel_size, int stride, int padding = 0);
  const ops::Pool2dParams& params() const { return params_; }

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  ops::Pool2dParams params_;
  Tensor x_, y_;
};

class AvgPool2d : public Module {
 public:
  NodeRole graph_role() const override { return NodeRole::Pool; }
  AvgPool2d(int kernel_size, int stride, int padding = 0);

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  ops::Pool2dParams params_;
  Shape input_shape_;
};

class GlobalAvgPool : public Module {
 public:
  NodeRole graph_role() const override { return NodeRole::Pool; }
  GlobalAvgPool() : Module("GlobalAvgPool") {}

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Shape input_shape_;
};

}  // namespace bmc::nn
