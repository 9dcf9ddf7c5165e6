// Launchers for kernels/batch_norm_sync.cu: synchronised batch norm on CUDA, tensors viewed as
// (outer, channels, inner). The caller all-reduces `sums` / `squares` / `grad_sums` across the
// processes between the steps (on the device: NCCL) and passes the global element count.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// sums[c] = sum of channel c (a fixed-order float sum, one block per channel).
void bn_channel_sums(float* sums, const float* x, int64_t outer, int64_t channels, int64_t inner, StreamRef stream);
// squares[c] = sum of (x - sums[c] / count)^2 over channel c.
void bn_channel_squares(float* squares, const float* x, const float* sums, double count, int64_t outer,
                        int64_t channels, int64_t inner, StreamRef stream);
// saved_mean, saved_invstd = 1 / sqrt(var + eps); running_* += momentum * (batch - running), the
// running variance unbiased (count / (count - 1)).
void bn_finish_stats(float* saved_mean, float* saved_invstd, float* running_mean, float* running_var,
                     const float* sums, const float* squares, double count, float momentum, float eps,
                     int64_t channels, StreamRef stream);
void bn_normalize(float* y, const float* x, const float* mean, const float* invstd, const float* gamma,
                  const float* beta, int64_t outer, int64_t channels, int64_t inner, StreamRef stream,
                  int grid_limit = 0);
// grad_sums[c] = sum dy, grad_sums[channels + c] = sum dy * xhat over channel c; dbeta, dgamma
// accumulate the same (this shard's) sums.
void bn_backward_sums(float* grad_sums, float* dgamma, float* dbeta, const float* dy, const float* x,
                      const float* mean, const float* invstd, int64_t outer, int64_t channels, int64_t inner,
                      StreamRef stream);
// dx from the all-reduced grad_sums and the global count.
void bn_backward_input(float* dx, const float* dy, const float* x, const float* mean, const float* invstd,
                       const float* gamma, const float* grad_sums, double count, int64_t outer, int64_t channels,
                       int64_t inner, StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
