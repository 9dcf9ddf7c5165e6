// BSQ's bit-plane ops (../shared/docs/algorithms/bsq.md 1.3-1.6) on either backend. Planes are
// [bits, n] f32 tensors (plane-major: plane i is row i, so each plane is contiguous), scale a [1]
// tensor; the math is kernels/bit_planes.cuh and every sum the fixed-order one of
// kernels/fixed_sum.cuh, so the CPU and CUDA results are bitwise equal.
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// w (n elements, any shape) = s * Q(sum_i (P_i - Nn_i) e_i).
void bsq_forward(Tensor& w, const Tensor& pos, const Tensor& neg, const Tensor& scale);
// Accumulates the straight-through plane gradients of g = dL/dw (times mask when given; none
// when ste is false) plus coef[i] * plane (the regularizer), and dscale += sum g * Q(w).
void bsq_backward(Tensor& dpos, Tensor& dneg, Tensor& dscale, const Tensor& g, const Tensor* mask, const Tensor& pos,
                  const Tensor& neg, const Tensor& scale, const Tensor& coef, bool ste);
// The group lasso of one layer: coef[i] = weight / ||plane i||, value = weight * sum_i ||plane i||,
// ||plane i|| = sqrt(1e-8 + sum P_i^2 + sum Nn_i^2). coef: [bits], value: [1].
void bsq_regularizer(Tensor& coef, Tensor& value, const Tensor& pos, const Tensor& neg, float weight);
// bsq_regularizer then bsq_forward, bitwise, in one pass over the planes on the CPU. w: (n),
// pos / neg: [bits, n], coef: [bits], value and scale: [1].
void bsq_forward_regularized(Tensor& w, Tensor& coef, Tensor& value, const Tensor& pos, const Tensor& neg,
                             const Tensor& scale, float weight);
// codes (I32, n) = the signed re-quantized integers (unclipped plane sums).
void bsq_codes(Tensor& codes, const Tensor& pos, const Tensor& neg);
// Binary planes of signed codes (|code| < 2^bits, bits = pos.dim(0)).
void bsq_write_codes(Tensor& pos, Tensor& neg, const Tensor& codes);

// Fine-tuning at a fixed precision: w = s * Q_bits(clip(u, -1, 1)); du += s * g, dscale += sum g * Q.
void bsq_latent_forward(Tensor& w, const Tensor& u, const Tensor& scale, int bits);
void bsq_latent_backward(Tensor& du, Tensor& dscale, const Tensor& g, const Tensor& u, const Tensor& scale, int bits);

// The activation quantizer: y = Q_bits(min(x, clip)) on the grid of the tensor's max |.| (bits 0:
// the clip only). clip: [1].
void bsq_act_forward(Tensor& y, const Tensor& x, const Tensor& clip, int bits);
// dx = the clip's input gradient (ReLU6: x < clip; PACT: x <= clip); with dclip (PACT),
// dclip += sum of dy where x >= clip.
void bsq_act_backward(Tensor& dx, Tensor* dclip, const Tensor& dy, const Tensor& x, const Tensor& clip, bool pact);

}  // namespace bmc::ops
