// SPARQ's activation cores (docs of the method: ../shared/docs/algorithms/sparq.md, sections 2.4,
// 3 and 4.1), shared by the CPU backend and future kernels:
//   the 8-bit code of an activation is kernels/sparq.cuh's sparq_act_code;
//   bSPARQ window: an n-bit window over the 8-bit code, placed at the lowest allowed LSB shift s
//     whose top bit covers the highest set bit (the smallest s in {0, d, 2d, ..., 8 - n} with
//     a < 2^(s+n)); RAW truncates below the window, ROUND rounds half to even at its LSB and
//     saturates inside the window (the window never moves up);
//   vSPARQ pair: two codes sharing a multiplier slot each get an n-bit window when both are
//     non-zero; when one is zero the other gets a 2n-bit window with 8 - 2n + 1 placements.
#pragma once

#include "kernels/compat.cuh"

namespace bmc {

enum class WindowRound : int { Raw = 0, Round = 1 };

struct BitWindow {
  int bits = 4;        // n
  int shift_step = 1;  // d: allowed LSB shifts are 0, d, 2d, ... up to 8 - n
  WindowRound round = WindowRound::Round;
};

// SPARQ's --bit_group / --shift_opt: for 4 bits opt5 -> every shift, opt3 -> {0, 2, 4}, opt2 ->
// {0, 4}; for 3 and 2 bits upstream overrides the option with every shift; any other n (the 6-bit
// survivor window) allows every shift.
BMC_HD BitWindow sparq_window(int bits, int shift_opt, WindowRound round) {
  BitWindow w;
  w.bits = bits;
  w.round = round;
  w.shift_step = bits == 4 ? (shift_opt == 3 ? 2 : (shift_opt == 2 ? 4 : 1)) : 1;
  return w;
}

// The window a lone non-zero code of a vSPARQ pair gets: 2n bits, every placement.
BMC_HD BitWindow sparq_survivor_window(const BitWindow& w) {
  BitWindow s;
  s.bits = 2 * w.bits;
  s.shift_step = 1;
  s.round = w.round;
  return s;
}

BMC_HD int bit_window_shift(int a, const BitWindow& w) {
  int s = 0;
  while (s + w.shift_step <= 8 - w.bits && a >= (1 << (s + w.bits))) s += w.shift_step;
  return s;
}

// The windowed value h of code a in [0, 255].
BMC_HD int bit_window_value(int a, const BitWindow& w) {
  const int s = bit_window_shift(a, w);
  if (s == 0) return a;
  int q = a >> s;
  if (w.round == WindowRound::Round) {
    const int guard = (a >> (s - 1)) & 1;
    const int sticky = a & ((1 << (s - 1)) - 1);
    if (guard && (sticky != 0 || (q & 1))) ++q;
    if (q == (1 << w.bits)) q = (1 << w.bits) - 1;
  }
  return q << s;
}

// vSPARQ: the windowed values of a pair (a1, a2).
BMC_HD void vsparq_pair(int a1, int a2, const BitWindow& w, int& h1, int& h2) {
  if (a1 != 0 && a2 != 0) {
    h1 = bit_window_value(a1, w);
    h2 = bit_window_value(a2, w);
    return;
  }
  const BitWindow lone = sparq_survivor_window(w);
  h1 = a1 == 0 ? 0 : bit_window_value(a1, lone);
  h2 = a2 == 0 ? 0 : bit_window_value(a2, lone);
}

}  // namespace bmc
