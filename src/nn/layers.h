// The basic layers: Linear, ReLU, Flatten. Convolution, batch-norm and pooling layers are in
// their own headers.
#pragma once

#include "nn/param_layer.h"

namespace bmc::nn {

// PyTorch nn.Linear: y = x W^T + b, parameters "weight" (out, in) and "bias" (out).
class Linear : public ParamLayer {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Parameter& weight() override { return weight_; }
  Parameter* bias() override { return bias_; }

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Parameter& weight_;
  Parameter* bias_ = nullptr;
  Tensor x_, w_;  // aliases of the input and the effective weight, kept for backward
};

class ReLU : public Module {
 public:
  NodeRole graph_role() const override { return NodeRole::Activation; }
  ReLU() : Module("ReLU") {}

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Tensor y_;
};

// (N, ...) -> (N, prod(...)); a view, no copy.
class Flatten : public Module {
 public:
  NodeRole graph_role() const override { return NodeRole::Reshape; }
  Flatten() : Module("Flatten") {}

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Shape input_shape_;
};

// torch.nn.Identity: a place to hang activation transforms where no layer is (a residual add's
// inputs).
class Identity : public Module {
 public:
  Identity() : Module("Identity") {}

 protected:
  Tensor forward_impl(const Tensor& x) override { return x.view(x.shape()); }
  Tensor backward_impl(const Tensor& dy) override { return dy.view(dy.shape()); }
};

}  // namespace bmc::nn
