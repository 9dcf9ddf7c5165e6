// PyTorch nn.BatchNorm2d(C) (momentum 0.1, eps 1e-5, affine, tracking running statistics):
// parameters "weight", "bias" (C); buffers "running_mean" (C, starts 0), "running_var" (C,
// starts 1), "num_batches_tracked" (i64 scalar, counted on the device by each training forward, so a replayed
// captured step counts too). Training normalises with batch statistics and
// updates the running ones; evaluation uses the running statistics. In a data-parallel run with
// synchronised batch norm the batch is the global one (every rank's shard).
#pragma once

#include "nn/module.h"
#include "ops/conv2d.h"

namespace bmc::nn {

class BatchNorm2d : public Module {
 public:
  NodeRole graph_role() const override { return NodeRole::BatchNorm; }
  static constexpr float kMomentum = 0.1f;
  static constexpr float kEps = 1e-5f;

  explicit BatchNorm2d(int64_t channels);

  // Whether the next forward also runs the ReLU after this layer, in the same pass over the
  // tensor, and its backward that ReLU's backward (nn/fusion.h decides, before each forward).
  void set_relu_fused(bool on) { relu_fused_ = on; }
  // This layer in eval mode as a convolution's epilogue (nn/fusion.h), then a ReLU if `relu`.
  ops::ConvEpilogue eval_epilogue(bool relu) const;

 protected:
  Tensor forward_impl(const Tensor& x) override;
  Tensor backward_impl(const Tensor& dy) override;

 private:
  Parameter& weight_;
  Parameter& bias_;
  Buffer& running_mean_;
  Buffer& running_var_;
  Buffer& num_batches_tracked_;
  bool relu_fused_ = false;
  Tensor x_, saved_mean_, saved_invstd_;  // from the last training forward
  Tensor relu_y_;                         // its output, when it ran the ReLU too
};

}  // namespace bmc::nn
