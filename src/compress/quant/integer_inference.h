// Integer-only inference for an 8-bit symmetric quantized model (CPU, reference loops): codes in
// int8, conv / linear as int8 x int8 -> int32 accumulation plus the int32 bias codes, then
// requantization out = clamp(round(out_scale / accum_scale * acc)) as Distiller does (float
// multiplier, no fixed-point approximation). ReLU and max pooling work on the codes (both commute
// with a positive scale), then re-quantize to the module's output parameters.
// Supported: chains (each quantized module consumes the previous one's output, possibly through a
// ReLU) of Linear, Conv2d, ReLU and MaxPool2d, with Flatten anywhere: the MLP and LeNet families.
// It differs from the fake-quant simulation only where the float sum of dequantized products
// rounds to another code than the exact integer sum does (see docs/ptq_distiller_semantics.md).
#pragma once

#include "compress/quant/range_linear.h"

namespace bmc::compress {

// Throws if the quantizer is not 8-bit-or-less symmetric, not quantized, or the model is not a
// supported chain.
void check_integer_path(const PostTrainQuantizer& q);
// x: (N, ...) f32 on any device. Returns the dequantized logits, (N, classes) f32 on the CPU.
Tensor integer_forward(const PostTrainQuantizer& q, const Tensor& x);

}  // namespace bmc::compress
