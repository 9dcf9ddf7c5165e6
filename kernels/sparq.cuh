// SPARQ's integer cores beside the window rules of kernels/bit_window.cuh (the method's note:
// ../shared/docs/algorithms/sparq.md, sections 2, 3, 4.3 and 9.1), shared by the CPU reference,
// the fast CPU path and the kernels:
//   weights: symmetric per output channel, step = fl32(fl32(m * 2) / (2^b - 1)) for the channel's
//     largest magnitude m, code = clamp(round_half_even(fl32(w / step)), -2^(b-1), 2^(b-1) - 1),
//     in exactly this float32 order (8 bits: 255 steps over +-127.5 steps, +m -> 127);
//   activations: unsigned per tensor, step = fl32(M / (2^b - 1)) (sparq_code for 8 bits);
//   the window rule in its mask form (the upstream kernel's encoding: select the window whose
//     out-of-window high bits are clear, test guard and sticky bits, saturate on overflow), which
//     builds the lookup tables of the fast paths and is checked against the closed form;
//   STC: per aligned group of 4 along K at one output channel, the positions of the first two
//     non-zero weight codes fill the pair's slots (a missing slot is (0, 0)), then the pair rule;
//   2:4 storage: two kept positions per group of 4, the lower in the low 2 bits of a nibble;
//   the output: C * step_x * step_w[o] + bias, unfused.
#pragma once

#include <cmath>

#include "kernels/bit_window.cuh"

namespace bmc {

BMC_HD float sparq_weight_step(float max_abs, int bits) {
  return (max_abs * 2.0f) / static_cast<float>((1 << bits) - 1);
}

BMC_HD int sparq_weight_code(float w, float step, int bits) {
  if (step == 0.0f) return 0;
  const float q = rintf(w / step);
  const float lo = -static_cast<float>(1 << (bits - 1)), hi = static_cast<float>((1 << (bits - 1)) - 1);
  return static_cast<int>(q < lo ? lo : (q > hi ? hi : q));
}

BMC_HD float sparq_act_step(float range_max, int bits) { return range_max / static_cast<float>((1 << bits) - 1); }

BMC_HD int sparq_act_code(float x, float step, int bits) {
  if (step == 0.0f) return 0;
  const float q = rintf(x / step);
  const float hi = static_cast<float>((1 << bits) - 1);
  return static_cast<int>(q < 0.0f ? 0.0f : (q > hi ? hi : q));
}

// The window of code a in its mask form: the lowest allowed window [s + n - 1 : s] with no set
// bit above it; RAW keeps the window's bits; ROUND adds one window LSB when the guard bit (s - 1)
// is set and a sticky bit below it or the window's LSB is set, and an overflow out of the window
// (2^(s+n)) saturates to the window's mask.
BMC_HD int bit_window_value_masked(int a, const BitWindow& w) {
  int s = 0;
  while (s + w.shift_step <= 8 - w.bits && (a & ~((1 << (s + w.bits)) - 1)) != 0) s += w.shift_step;
  const int window_mask = ((1 << w.bits) - 1) << s;
  int h = a & window_mask;
  if (w.round == WindowRound::Round && s > 0) {
    const int guard = 1 << (s - 1), sticky = guard - 1, lsb = 1 << s;
    if ((a & guard) && ((a & sticky) || (a & lsb))) h += lsb;
    if (h == (1 << (s + w.bits))) h = window_mask;
  }
  return h;
}

// a * b summed over one pair of a non-STC reduction: the vSPARQ pair rule on (a1, a2).
BMC_HD int sparq_pair_dot(int a1, int a2, int b1, int b2, const BitWindow& w) {
  int h1 = 0, h2 = 0;
  vsparq_pair(a1, a2, w, h1, h2);
  return h1 * b1 + h2 * b2;
}

// One aligned group of 4 in STC mode: adds the group's contribution to acc and returns the number
// of non-zero weight codes (more than 2 is an error the caller reports; only the first two count).
BMC_HD int sparq_stc_group(const uint8_t* a, const int8_t* b, const BitWindow& w, int32_t& acc) {
  int slot_a[2] = {0, 0}, slot_b[2] = {0, 0}, nonzero = 0;
  for (int r = 0; r < 4; ++r) {
    if (b[r] == 0) continue;
    if (nonzero < 2) {
      slot_a[nonzero] = a[r];
      slot_b[nonzero] = b[r];
    }
    ++nonzero;
  }
  acc += sparq_pair_dot(slot_a[0], slot_a[1], slot_b[0], slot_b[1], w);
  return nonzero;
}

// The layer output of an int32 accumulator: C * step_x * step_w[o] + bias, in this order, unfused.
BMC_HD float sparq_dequantize(int32_t acc, float step_x, float step_w, float bias) {
  return add_rn(mul_rn(mul_rn(static_cast<float>(acc), step_x), step_w), bias);
}

// 2:4 metadata nibble of kept positions lo < hi in a group of 4 (PTX ISA sparse storage).
BMC_HD int sparse_meta_nibble(int lo, int hi) { return lo | (hi << 2); }
BMC_HD int sparse_meta_lo(int nibble) { return nibble & 3; }
BMC_HD int sparse_meta_hi(int nibble) { return (nibble >> 2) & 3; }

// The kept positions of a group of 4 codes with at most 2 non-zeros: the non-zero ones, padded
// with explicit zeros at the highest free positions (all zero -> (2, 3), one at p -> p and the
// highest other position), so every nibble is one of the six valid patterns.
BMC_HD int sparse_group_nibble(const int8_t* b) {
  int kept[2] = {-1, -1}, n = 0;
  for (int r = 0; r < 4 && n < 2; ++r)
    if (b[r] != 0) kept[n++] = r;
  for (int r = 3; r >= 0 && n < 2; --r)
    if (r != kept[0]) kept[n++] = r;
  const int lo = kept[0] < kept[1] ? kept[0] : kept[1], hi = kept[0] < kept[1] ? kept[1] : kept[0];
  return sparse_meta_nibble(lo, hi);
}

}  // namespace bmc
