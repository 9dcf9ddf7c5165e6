// Fake quantization (quantize then dequantize), per tensor or per channel, and its straight-
// through backward. The math is the shared core in kernels/fake_quant.cuh. Forward moves 8 bytes
// per element (read x, write y); backward 12 (read dy and x, write dx).
#include "kernels/bias.cuh"
#include "kernels/device_compat.cuh"
#include "kernels/fake_quant.h"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kFakeQuantBlock = 256;

// --- kernels

__global__ void fake_quant_forward_kernel(float* y, const float* x, const QuantParams* params, int64_t n,
                                          int64_t channels, int64_t inner) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = fake_quant(x[i], params[channel_of(i, channels, inner)]); }
}

__global__ void fake_quant_backward_kernel(float* dx, const float* dy, const float* x, const QuantParams* params,
                                           int64_t n, int64_t channels, int64_t inner) {
  BMC_GRID_STRIDE_LOOP(i, n) { dx[i] = fake_quant_grad(dy[i], x[i], params[channel_of(i, channels, inner)]); }
}

}  // namespace

// --- launchers

void fake_quant_forward(float* y, const float* x, const QuantParams* params, int64_t outer, int64_t channels,
                        int64_t inner, StreamRef stream, int grid_limit) {
  const int64_t n = outer * channels * inner;
  if (n == 0) return;
  launch("fake_quant_forward_kernel", fake_quant_forward_kernel, grid_for(n, kFakeQuantBlock, grid_limit),
         kFakeQuantBlock, stream, y, x, params, n, channels, inner);
}

void fake_quant_backward(float* dx, const float* dy, const float* x, const QuantParams* params, int64_t outer,
                         int64_t channels, int64_t inner, StreamRef stream, int grid_limit) {
  const int64_t n = outer * channels * inner;
  if (n == 0) return;
  launch("fake_quant_backward_kernel", fake_quant_backward_kernel, grid_for(n, kFakeQuantBlock, grid_limit),
         kFakeQuantBlock, stream, dx, dy, x, params, n, channels, inner);
}

}  // namespace bmc::BMC_KNS
