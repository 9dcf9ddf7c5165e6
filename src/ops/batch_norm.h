// Batch normalisation over (N, H, W) per channel of NCHW tensors (or over N for (N, C)),
// PyTorch's nn.BatchNorm2d semantics: training normalises with the biased batch variance and
// updates running_mean/var with `momentum` (running = (1 - m) * running + m * batch), using the
// unbiased variance for running_var; evaluation normalises with the running statistics.
#pragma once

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace bmc::ops {

// Synchronised batch norm: sums over the processes whose shards one batch norm normalises
// together, in place (every process makes the same calls). With it the statistics and the
// backward's sums are those of the union of the shards; dgamma and dbeta stay this shard's (the
// gradient all-reduce sums them). The CPU backend sums host doubles; the CUDA one sums f32
// tensors on the device (and its element counts as host doubles).
struct CrossShardSum {
  std::function<void(double* values, int64_t n)> host;
  std::function<void(Tensor& sums)> device;
};

// y, x: (N, C, H, W) or (N, C). gamma, beta, running_*: (C). saved_mean, saved_invstd: (C)
// outputs for the backward pass (invstd = 1 / sqrt(var_biased + eps)).
void batch_norm_forward_train(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                              const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                              Tensor& running_var, float momentum, float eps,
                              const CrossShardSum* across = nullptr);
void batch_norm_forward_eval(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, float eps);
// A batch norm and the ReLU after it in one pass: y = relu(batch_norm(x)), the same values as the
// two ops one after the other.
void batch_norm_relu_forward_train(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                                   const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                   Tensor& running_var, float momentum, float eps,
                                   const CrossShardSum* across = nullptr);
void batch_norm_relu_forward_eval(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                  const Tensor& running_mean, const Tensor& running_var, float eps);
// A batch norm on one channel as y = x * scale + shift, in double: scale = invstd * gamma,
// shift = beta - mean * scale.
struct ChannelAffine {
  double scale = 1, shift = 0;
};
ChannelAffine channel_affine(double mean, double invstd, float gamma, float beta);
// y[i] = x[i] * f32(scale) + f32(shift) in float, then relu(y[i]) when `relu`, for n contiguous
// values (y may be x): the arithmetic of every batch norm forward here, for a layer that applies
// it itself.
void batch_norm_affine_row(float* y, const float* x, int64_t n, const ChannelAffine& t, bool relu);
// y[i] = relu(bn + r[i]) in place, bn the value batch_norm_affine_row gives y[i]: the batch norm,
// then ops::add_relu_forward's sum and ReLU (a residual block's add, run by the convolution).
void batch_norm_affine_add_relu_row(float* y, const float* r, int64_t n, const ChannelAffine& t);
// The eval-mode batch norm's affine per channel (CPU tensors).
std::vector<ChannelAffine> batch_norm_eval_affine(const Tensor& gamma, const Tensor& beta,
                                                  const Tensor& running_mean, const Tensor& running_var, float eps);
// dx overwritten; dgamma, dbeta accumulated. Uses the statistics saved by the training forward;
// eps is the forward's (cuDNN wants the same value in both).
void batch_norm_backward(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                         const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd, float eps,
                         const CrossShardSum* across = nullptr);
// The backward of y = relu(batch_norm(x)): dy is y's gradient, and ReLU's mask (y > 0) applies to
// it as it is read. The same values as relu_backward followed by batch_norm_backward.
void batch_norm_relu_backward(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& y,
                              const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                              const Tensor& saved_invstd, float eps, const CrossShardSum* across = nullptr);

}  // namespace bmc::ops
