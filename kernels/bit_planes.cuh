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
