// Launchers for kernels/fake_quant.cu.
#pragma once

#include <cstdint>

#include "kernels/fake_quant.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// y = fake_quant(x) with params[channel_of(i)], x viewed as (outer, channels, inner); per-tensor
// quantization is channels = 1. params: device array of `channels` QuantParams.
void fake_quant_forward(float* y, const float* x, const QuantParams* params, int64_t outer, int64_t channels,
                        int64_t inner, StreamRef stream, int grid_limit = 0);
// dx = fake_quant_grad(dy, x) (straight-through inside the range, zero outside).
void fake_quant_backward(float* dx, const float* dy, const float* x, const QuantParams* params, int64_t outer,
                         int64_t channels, int64_t inner, StreamRef stream, int grid_limit = 0);

// y = requantize_to_grid(x, in, ratio, acc_lo, acc_hi, out_scale) over n elements.
void requantize_to_grid(float* y, const float* x, QuantParams in, float ratio, float acc_lo, float acc_hi,
                        float out_scale, int64_t n, StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
