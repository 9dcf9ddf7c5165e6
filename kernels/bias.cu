// Channel bias forward (y += b broadcast over outer and inner) and its gradient (db += sum of dy
// over outer and inner). Forward moves 8 bytes per element (read + write y); the gradient reads
// 4 bytes per element of dy. The gradient is deterministic: each block reduces one channel with a
// fixed thread-to-element assignment and a fixed-order shared-memory tree.
#include "kernels/bias.cuh"
#include "kernels/bias.h"
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kBiasBlock = 256;
constexpr int kBiasGradBlock = 256;

// --- kernels

__global__ void add_channel_bias_kernel(float* y, const float* b, int64_t n, int64_t channels,
                                        int64_t inner) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = y[i] + b[channel_of(i, channels, inner)]; }
}

__global__ void channel_bias_grad_kernel(float* db, const float* dy, int64_t outer, int64_t channels,
                                         int64_t inner) {
  __shared__ float partial[kBiasGradBlock];
  const int64_t c = blockIdx.x;
  const int64_t per_channel = outer * inner;
  float sum = 0.0f;
  for (int64_t j = threadIdx.x; j < per_channel; j += blockDim.x) {
    const int64_t o = j / inner, i = j % inner;
    sum += dy[(o * channels + c) * inner + i];
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = kBiasGradBlock / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) db[c] += partial[0];
}

}  // namespace

// --- launchers

void add_channel_bias(float* y, const float* b, int64_t outer, int64_t channels, int64_t inner,
                      StreamRef stream, int grid_limit) {
  const int64_t n = outer * channels * inner;
  if (n == 0) return;
  launch("add_channel_bias_kernel", add_channel_bias_kernel, grid_for(n, kBiasBlock, grid_limit),
         kBiasBlock, stream, y, b, n, channels, inner);
}

void channel_bias_grad(float* db, const float* dy, int64_t outer, int64_t channels, int64_t inner,
                       StreamRef stream) {
  if (channels == 0) return;
  launch("channel_bias_grad_kernel", channel_bias_grad_kernel, static_cast<unsigned>(channels),
         kBiasGradBlock, stream, db, dy, outer, channels, inner);
}

}  // namespace bmc::BMC_KNS
