// Fake quantization (quantize-dequantize) with Distiller's range-linear semantics, per tensor or
// per channel, and its straight-through backward (kernels/fake_quant.cuh holds the math).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernels/fake_quant.cuh"

namespace bmc::ops {

// y, x: any shape f32. params: one entry (per tensor) or x.dim(channel_axis) entries (per
// channel; channel_axis 0 for weights (K, C, R, S), 1 for activations (N, C, H, W)). y may alias x.
void fake_quant_forward(Tensor& y, const Tensor& x, const std::vector<QuantParams>& params, int channel_axis = 0);
// dx = dy where the code of x lies inside [qmin, qmax], else 0. dx may alias dy.
void fake_quant_backward(Tensor& dx, const Tensor& dy, const Tensor& x, const std::vector<QuantParams>& params,
                         int channel_axis = 0);

// y = requantize_to_grid(x, in, ratio, acc_lo, acc_hi, out_scale) elementwise (kernels/fake_quant.cuh:
// one input of Distiller's quantized residual add, re-scaled onto the sum's grid). y may alias x.
void requantize_to_grid(Tensor& y, const Tensor& x, const QuantParams& in, float ratio, float acc_lo, float acc_hi,
                        float out_scale);

// How x is seen by the per-channel loops: (outer, channels, inner).
struct ChannelLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};
ChannelLayout channel_layout(const Tensor& x, size_t n_params, int channel_axis, const char* op);

}  // namespace bmc::ops
