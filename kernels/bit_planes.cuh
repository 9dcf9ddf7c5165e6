// BSQ's bit-plane cores (../shared/docs/algorithms/bsq.md, sections 1.2, 1.3 and 1.6), shared by
// the CPU backend and future kernels. A weight of a layer at precision N is s * w with
//   w = sum_i (P_i - Nn_i) * e_i,   e_i = 2^(N-1-i) / (2^N - 1)   (i = 0 is the MSB),
// P and Nn the positive and negative planes (floats in [0, 2] while training, bits after
// re-quantization). The forward clips w to [-1, 1] and rounds it to the N-bit grid:
//   Q(w) = sign(w) * round_half_even(|w| * (2^N - 1)) / (2^N - 1).
#pragma once

#include <cmath>

#include "kernels/compat.cuh"

namespace bmc {

BMC_HD float bit_plane_weight(int i, int bits) {
  return ldexpf(1.0f, bits - 1 - i) / static_cast<float>((1 << bits) - 1);
}

// w from the planes of one element; planes are `stride` floats apart (stride 1: bit axis last).
BMC_HD float bit_plane_sum(const float* pos, const float* neg, int bits, int64_t stride) {
  float w = 0.0f;
  for (int i = 0; i < bits; ++i)
    w = add_rn(w, mul_rn(add_rn(pos[i * stride], -neg[i * stride]), bit_plane_weight(i, bits)));
  return w;
}

// Q(w): clipped to [-1, 1], on the N-bit grid.
BMC_HD float bit_plane_quantize(float w, int bits) {
  const float levels = static_cast<float>((1 << bits) - 1);
  const float c = w < -1.0f ? -1.0f : (w > 1.0f ? 1.0f : w);
  const float r = rintf(mul_rn(fabsf(c), levels)) / levels;
  return c < 0.0f ? -r : r;
}

// The integer magnitude R = round(|x| * (2^N - 1) / range) that a float converts to (ini2bit);
// range 0 gives 0.
BMC_HD int bit_plane_integer(float x, float range, int bits) {
  if (range == 0.0f) return 0;
  return static_cast<int>(rintf(mul_rn(fabsf(x), static_cast<float>((1 << bits) - 1)) / range));
}

// The MSB-first binary digits of r into planes[i * stride], i = 0..N-1.
BMC_HD void bit_plane_digits(int r, int bits, float* planes, int64_t stride) {
  for (int i = 0; i < bits; ++i) planes[i * stride] = static_cast<float>((r >> (bits - 1 - i)) & 1);
}

}  // namespace bmc

namespace bmc {

// --- training (plane-major storage: plane i of an n-element layer starts at i * n)

// The effective weight s * Q(w) of element j (0 for a layer marked all-zero).
BMC_HD float bit_plane_effective(const float* pos, const float* neg, int64_t j, int64_t n, int bits, float scale) {
  return mul_rn(scale, bit_plane_quantize(bit_plane_sum(pos + j, neg + j, bits, n), bits));
}

// Straight-through gradients of element j's planes, given g = dL/d(effective weight) (already
// multiplied by the element's mask): dP_i += s e_i g + c_i P_i, dNn_i += -s e_i g + c_i Nn_i, with
// c_i the group-lasso coefficient of plane i (zero without the regularizer). Clipped elements are
// not masked: the whole clip-and-round step is the identity backward.
BMC_HD void bit_plane_grads(float* dpos, float* dneg, const float* pos, const float* neg, const float* coef,
                            int64_t j, int64_t n, int bits, float scale, float g) {
  for (int i = 0; i < bits; ++i) {
    const int64_t k = i * n + j;
    const float ste = mul_rn(mul_rn(scale, bit_plane_weight(i, bits)), g);
    dpos[k] = add_rn(dpos[k], add_rn(ste, mul_rn(coef[i], pos[k])));
    dneg[k] = add_rn(dneg[k], add_rn(-ste, mul_rn(coef[i], neg[k])));
  }
}

// The signed integer the planes of element j re-quantize to: sign(w) * round(|w| (2^N - 1)) with
// w the unclipped plane sum (|w| <= 2, so the magnitude may need one more bit). Zero and negative
// sums go to the negative side, as upstream's sign split.
BMC_HD int32_t bit_plane_code(const float* pos, const float* neg, int64_t j, int64_t n, int bits) {
  const float w = bit_plane_sum(pos + j, neg + j, bits, n);
  const int32_t r = static_cast<int32_t>(rintf(mul_rn(fabsf(w), static_cast<float>((1 << bits) - 1))));
  return w > 0.0f ? r : -r;
}

// Writes the binary planes of signed code c (|c| < 2^N) for element j.
BMC_HD void bit_plane_write_code(float* pos, float* neg, int32_t c, int64_t j, int64_t n, int bits) {
  const int32_t r = c < 0 ? -c : c;
  for (int i = 0; i < bits; ++i) {
    const float bit = static_cast<float>((r >> (bits - 1 - i)) & 1);
    pos[i * n + j] = c > 0 ? bit : 0.0f;
    neg[i * n + j] = c > 0 ? 0.0f : bit;
  }
}

// --- dynamic activation quantization (bsq.md 1.4): the ReLU6 or PACT clip, then the per-tensor
// max-scaled N-bit grid; the quantizer's backward is the identity.

BMC_HD float bsq_act_clip(float x, float clip) { return x > clip ? clip : x; }

// sign(x) * S * round(|x| (2^N - 1) / S) / (2^N - 1), S the batch's max |x| (0 maps to 0).
BMC_HD float bsq_act_quantize(float x, float max_abs, int bits) {
  if (max_abs == 0.0f) return 0.0f;
  const float levels = static_cast<float>((1 << bits) - 1);
  const float r = rintf(mul_rn(fabsf(x), levels) / max_abs);
  const float q = mul_rn(max_abs, r) / levels;
  return x < 0.0f ? -q : q;
}

// The input gradient of the clip: ReLU6 passes strictly below 6 (PyTorch's hardtanh), PACT where
// x <= alpha.
BMC_HD float bsq_act_clip_grad(float dy, float x, float clip, bool pact) {
  return (pact ? x <= clip : x < clip) ? dy : 0.0f;
}

}  // namespace bmc
