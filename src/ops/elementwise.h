// Elementwise arithmetic used by residual blocks, gradient accumulation and folded biases.
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// y = a + b (same shape, f32). y may alias a or b.
void add_forward(Tensor& y, const Tensor& a, const Tensor& b);
// y = relu(a + b): a residual sum and the ReLU after it in one pass, the same values as the two
// ops one after the other. y may alias a or b.
void add_relu_forward(Tensor& y, const Tensor& a, const Tensor& b);
// y += alpha * x (same shape, f32): gradient accumulation at branch points, scaling.
void axpy(Tensor& y, float alpha, const Tensor& x);
// y *= alpha.
void scale(Tensor& y, float alpha);
// y = clamp(y, lo, hi) in place.
void clamp(Tensor& y, float lo, float hi);
// y += v in place, y i64: a counter kept on y's device (a captured step replays its increment).
void add_to_counter(Tensor& y, int64_t v);
// y[n, c, ...] += b[c] in place: y (N, C, ...) f32, b (C) f32 on y's device (a bias folded into a
// layer from outside it, as batch-norm folding gives a bias-free convolution).
void add_channel_bias(Tensor& y, const Tensor& b);

}  // namespace bmc::ops
