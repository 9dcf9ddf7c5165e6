// The basic layers: Linear, ReLU, Flatten. Convolution, batch-norm and pooling layers are in
// their own headers.
#pragma once

#include "nn/module.h"

namespace bmc::nn {

// PyTorch nn.Linear: y = x W^T + b, parameters "weight" (out, in) and "bias" (out).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Parameter& weight() { return weight_; }
  Parameter* bias() { return bias_; }

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Parameter& weight_;
  Parameter* bias_ = nullptr;
  Tensor x_;  // alias of the input, kept for the weight gradient
};

class ReLU : public Module {
 public:
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
  Flatten() : Module("Flatten") {}

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Shape input_shape_;
};

}  // namespace bmc::nn
