// Batch normalisation over (N, H, W) per channel of NCHW tensors (or over N for (N, C)),
// PyTorch's nn.BatchNorm2d semantics: training normalises with the biased batch variance and
// updates running_mean/var with `momentum` (running = (1 - m) * running + m * batch), using the
// unbiased variance for running_var; evaluation normalises with the running statistics.
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// y, x: (N, C, H, W) or (N, C). gamma, beta, running_*: (C). saved_mean, saved_invstd: (C)
// outputs for the backward pass (invstd = 1 / sqrt(var_biased + eps)).
void batch_norm_forward_train(Tensor& y, Tensor& saved_mean, Tensor& saved_invstd, const Tensor& x,
                              const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                              Tensor& running_var, float momentum, float eps);
void batch_norm_forward_eval(Tensor& y, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, float eps);
// dx overwritten; dgamma, dbeta accumulated. Uses the statistics saved by the training forward;
// eps is the forward's (cuDNN wants the same value in both).
void batch_norm_backward(Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor& dy, const Tensor& x,
                         const Tensor& gamma, const Tensor& saved_mean, const Tensor& saved_invstd, float eps);

}  // namespace bmc::ops
