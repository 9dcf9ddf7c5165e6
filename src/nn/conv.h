// PyTorch nn.Conv2d with square kernels, dilation 1, groups 1: parameters "weight" (K, C, R, S),
// fan_in C*R*S, and an optional "bias" (K).
#pragma once

#include <optional>

#include "nn/param_layer.h"
#include "ops/conv2d.h"

namespace bmc::nn {

class Conv2d : public ParamLayer {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, int stride = 1, int padding = 0,
         bool bias = true);
  Parameter& weight() override { return weight_; }
  Parameter* bias() override { return bias_; }
  const ops::Conv2dParams& params() const { return params_; }
  // What the next forward applies to each image's output while it is in cache (the eval-mode
  // batch norm after this layer, and its ReLU; nn/fusion.h decides before each forward), or none.
  // A backward after a forward that ran one is refused, as the batch norm's own would be.
  void set_epilogue(std::optional<ops::ConvEpilogue> epilogue) { epilogue_ = std::move(epilogue); }
  // Whether the epilogue set for the next forward is the batch norm alone (no ReLU), so that a
  // residual add and the ReLU after it can join it (nn/fusion.h).
  bool epilogue_takes_residual() const { return epilogue_ && !epilogue_->relu && !epilogue_->residual; }
  // Adds `residual` (shaped as the output, kept alive by the caller through the forward) after
  // the batch norm of the epilogue, then the ReLU.
  void add_residual_to_epilogue(const Tensor& residual);

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Parameter& weight_;
  Parameter* bias_ = nullptr;
  ops::Conv2dParams params_;
  Tensor x_, w_;  // aliases of the input and the effective weight, kept for backward
  std::optional<ops::ConvEpilogue> epilogue_;
  Shape residual_shape_;        // of the epilogue's residual, when it has one
  bool ran_epilogue_ = false;  // the last forward
};

}  // namespace bmc::nn
