// Synchronised batch norm on CUDA. The per-channel sums are one block per channel reducing in the
// fixed order of kernels/fixed_sum.cuh (deterministic); the per-element steps are grid-stride
// loops moving 12 bytes per element (x and y, or dy, x and dx: 12 and 16).
#include <cmath>

#include "kernels/batch_norm_sync.cuh"
#include "kernels/batch_norm_sync.h"
#include "kernels/block_fixed_sum.cuh"
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kElementBlock = 256;

__global__ void channel_sums_kernel(float* sums, const float* x, int64_t outer, int64_t channels, int64_t inner) {
  const int64_t c = blockIdx.x;
  const float s = block_fixed_sum_range(outer * inner, [&](int64_t j) { return x[bn_channel_element(c, j, channels, inner)]; });
  if (threadIdx.x == 0) sums[c] = s;
}

__global__ void channel_squares_kernel(float* squares, const float* x, const float* sums, float inv_count,
                                       int64_t outer, int64_t channels, int64_t inner) {
  const int64_t c = blockIdx.x;
  const float mean = mul_rn(sums[c], inv_count);
  const float s = block_fixed_sum_range(outer * inner, [&](int64_t j) {
    const float d = add_rn(x[bn_channel_element(c, j, channels, inner)], -mean);
    return mul_rn(d, d);
  });
  if (threadIdx.x == 0) squares[c] = s;
}

__global__ void finish_stats_kernel(float* saved_mean, float* saved_invstd, float* running_mean, float* running_var,
                                    const float* sums, const float* squares, double count, float momentum, float eps,
                                    int64_t channels) {
  BMC_GRID_STRIDE_LOOP(c, channels) {
    const double mean = sums[c] / count, var_biased = squares[c] / count;
    const double invstd = 1.0 / sqrt(var_biased + eps);
    saved_mean[c] = static_cast<float>(mean);
    saved_invstd[c] = static_cast<float>(invstd);
    const double m = momentum;
    running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean);
    running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * var_biased * count / (count - 1));
  }
}

__global__ void normalize_kernel(float* y, const float* x, const float* mean, const float* invstd, const float* gamma,
                                 const float* beta, int64_t n, int64_t channels, int64_t inner) {
  BMC_GRID_STRIDE_LOOP(i, n) {
    const int64_t c = (i / inner) % channels;
    y[i] = bn_output(x[i], mean[c], invstd[c], gamma[c], beta[c]);
  }
}

__global__ void backward_sums_kernel(float* grad_sums, float* dgamma, float* dbeta, const float* dy, const float* x,
                                     const float* mean, const float* invstd, int64_t outer, int64_t channels,
                                     int64_t inner) {
  const int64_t c = blockIdx.x;
  const float m = mean[c], s = invstd[c];
  const float sum_dy =
      block_fixed_sum_range(outer * inner, [&](int64_t j) { return dy[bn_channel_element(c, j, channels, inner)]; });
  const float sum_dy_xhat = block_fixed_sum_range(outer * inner, [&](int64_t j) {
    const int64_t e = bn_channel_element(c, j, channels, inner);
    return mul_rn(dy[e], bn_xhat(x[e], m, s));
  });
  if (threadIdx.x == 0) {
    grad_sums[c] = sum_dy;
    grad_sums[channels + c] = sum_dy_xhat;
    dbeta[c] = add_rn(dbeta[c], sum_dy);
    dgamma[c] = add_rn(dgamma[c], sum_dy_xhat);
  }
}

__global__ void backward_input_kernel(float* dx, const float* dy, const float* x, const float* mean,
                                      const float* invstd, const float* gamma, const float* grad_sums, float inv_count,
                                      int64_t n, int64_t channels, int64_t inner) {
  BMC_GRID_STRIDE_LOOP(i, n) {
    const int64_t c = (i / inner) % channels;
    dx[i] = bn_input_grad(dy[i], x[i], mean[c], invstd[c], gamma[c], mul_rn(grad_sums[c], inv_count),
                          mul_rn(grad_sums[channels + c], inv_count));
  }
}

}  // namespace

void bn_channel_sums(float* sums, const float* x, int64_t outer, int64_t channels, int64_t inner, StreamRef stream) {
  if (channels == 0) return;
  launch("bn_channel_sums_kernel", channel_sums_kernel, static_cast<unsigned>(channels), kFixedSumLanes, stream, sums,
         x, outer, channels, inner);
}

void bn_channel_squares(float* squares, const float* x, const float* sums, double count, int64_t outer,
                        int64_t channels, int64_t inner, StreamRef stream) {
  if (channels == 0) return;
  launch("bn_channel_squares_kernel", channel_squares_kernel, static_cast<unsigned>(channels), kFixedSumLanes, stream,
         squares, x, sums, static_cast<float>(1.0 / count), outer, channels, inner);
}

void bn_finish_stats(float* saved_mean, float* saved_invstd, float* running_mean, float* running_var,
                     const float* sums, const float* squares, double count, float momentum, float eps,
                     int64_t channels, StreamRef stream) {
  if (channels == 0) return;
  launch("bn_finish_stats_kernel", finish_stats_kernel, grid_for(channels, kElementBlock), kElementBlock, stream,
         saved_mean, saved_invstd, running_mean, running_var, sums, squares, count, momentum, eps, channels);
}

void bn_normalize(float* y, const float* x, const float* mean, const float* invstd, const float* gamma,
                  const float* beta, int64_t outer, int64_t channels, int64_t inner, StreamRef stream, int grid_limit) {
  const int64_t n = outer * channels * inner;
  if (n == 0) return;
  launch("bn_normalize_kernel", normalize_kernel, grid_for(n, kElementBlock, grid_limit), kElementBlock, stream, y, x,
         mean, invstd, gamma, beta, n, channels, inner);
}

void bn_backward_sums(float* grad_sums, float* dgamma, float* dbeta, const float* dy, const float* x,
                      const float* mean, const float* invstd, int64_t outer, int64_t channels, int64_t inner,
                      StreamRef stream) {
  if (channels == 0) return;
  launch("bn_backward_sums_kernel", backward_sums_kernel, static_cast<unsigned>(channels), kFixedSumLanes, stream,
         grad_sums, dgamma, dbeta, dy, x, mean, invstd, outer, channels, inner);
}

void bn_backward_input(float* dx, const float* dy, const float* x, const float* mean, const float* invstd,
                       const float* gamma, const float* grad_sums, double count, int64_t outer, int64_t channels,
                       int64_t inner, StreamRef stream, int grid_limit) {
  const int64_t n = outer * channels * inner;
  if (n == 0) return;
  launch("bn_backward_input_kernel", backward_input_kernel, grid_for(n, kElementBlock, grid_limit), kElementBlock,
         stream, dx, dy, x, mean, invstd, gamma, grad_sums, static_cast<float>(1.0 / count), n, channels, inner);
}

}  // namespace bmc::BMC_KNS
