// Fake quantization (quantize then dequantize), per tensor or per channel, and its straight-
// through backward, and the residual add's re-scaling onto the sum's grid. The math is the shared
// core in kernels/fake_quant.cuh. Forward and re-scaling move 8 bytes per element (read x, write
// y); backward 12 (read dy and x, write dx).
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

__global__ void requantize_to_grid_kernel(float* y, const float* x, QuantParams in, float ratio, float acc_lo,
                                          float acc_hi, float out_scale, int64_t n) {
  BMC_GRID_STRIDE_LOOP(i, n) { y[i] = requantize_to_grid(x[i], in, ratio, acc_lo, acc_hi, out_scale); }
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

void requantize_to_grid(float* y, const float* x, QuantParams in, float ratio, float acc_lo, float acc_hi,
                        float out_scale, int64_t n, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("requantize_to_grid_kernel", requantize_to_grid_kernel, grid_for(n, kFakeQuantBlock, grid_limit),
         kFakeQuantBlock, stream, y, x, in, ratio, acc_lo, acc_hi, out_scale, n);
}

}  // namespace bmc::BMC_KNS
