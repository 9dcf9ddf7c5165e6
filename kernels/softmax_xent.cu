// Softmax cross-entropy: per row, p = softmax(x) and loss_i = log(sum exp(x - max)) - (x[label] -
// max); then loss = mean_i loss_i; backward dx = (p - onehot) / N. The forward reads x once and
// writes p (8 bytes per element); the backward reads p and writes dx (8 bytes per element).
// Deterministic: one warp per row (row max and sum by warp butterflies), per-row losses to a
// workspace, then one single-block fixed-order reduction; no float atomics. Reduction orders are
// those of the cores in kernels/softmax_xent.cuh, so the CPU path matches this bitwise.
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"
#include "kernels/softmax_xent.cuh"
#include "kernels/softmax_xent.h"

namespace bmc::BMC_KNS {
namespace {

static_assert(kXentLanes == kWarpSize, "softmax_xent: the lane split must be one warp");
constexpr int kXentRowBlock = 128;
constexpr int kXentRowsPerBlock = kXentRowBlock / kWarpSize;
constexpr int kXentGradBlock = 256;

// --- kernels

// Every thread runs the same number of loop iterations (warps past the last row idle through the
// shuffles), so whole warps always reach the shuffles together.
__global__ void softmax_xent_rows_kernel(float* probs, float* row_loss, const float* logits,
                                         const int32_t* labels, int64_t n, int64_t k) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kXentRowsPerBlock; base < n;
       base += static_cast<int64_t>(gridDim.x) * kXentRowsPerBlock) {
    const int64_t row = base + warp;
    const bool active = row < n;
    const float* x = logits + (active ? row : 0) * k;
    const int64_t row_k = active ? k : 0;
    const float row_max = warp_max(xent_lane_max(x, row_k, lane));
    const float sum = warp_sum(xent_lane_exp_sum(x, row_k, lane, row_max));
    if (!active) continue;
    for (int64_t j = lane; j < k; j += kWarpSize) probs[row * k + j] = xent_prob(x[j], row_max, sum);
    if (lane == 0) row_loss[row] = xent_row_loss(x, k, labels[row], row_max, sum);
  }
}

__global__ void batch_mean_kernel(float* loss, const float* row_loss, int64_t n) {
  __shared__ float partial[kXentMeanThreads];
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += kXentMeanThreads) s += row_loss[i];
  partial[threadIdx.x] = s;
  __syncthreads();
  for (int stride = kXentMeanThreads / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) loss[0] = partial[0] / static_cast<float>(n);
}

__global__ void softmax_xent_grad_kernel(float* dlogits, const float* probs, const int32_t* labels,
                                         int64_t n, int64_t k) {
  BMC_GRID_STRIDE_LOOP(i, n * k) { dlogits[i] = xent_grad(probs[i], i % k == labels[i / k], n); }
}

}  // namespace

// --- launchers

void softmax_xent_forward(float* loss, float* probs, float* row_loss, const float* logits,
                          const int32_t* labels, int64_t n, int64_t k, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("softmax_xent_rows_kernel", softmax_xent_rows_kernel, grid_for(n, kXentRowsPerBlock, grid_limit),
         kXentRowBlock, stream, probs, row_loss, logits, labels, n, k);
  launch("batch_mean_kernel", batch_mean_kernel, 1u, kXentMeanThreads, stream, loss, row_loss, n);
}

void softmax_xent_backward(float* dlogits, const float* probs, const int32_t* labels, int64_t n, int64_t k,
                           StreamRef stream, int grid_limit) {
  if (n * k == 0) return;
  launch("softmax_xent_grad_kernel", softmax_xent_grad_kernel, grid_for(n * k, kXentGradBlock, grid_limit),
         kXentGradBlock, stream, dlogits, probs, labels, n, k);
}

}  // namespace bmc::BMC_KNS
