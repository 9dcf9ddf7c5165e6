// SPARQ's GEMM on integer codes (../shared/docs/algorithms/sparq.md, sections 4 and 6): A is
// M x K unsigned activation codes, B is O x K signed weight codes, both in the tap-major K order
// (k = (r * S + s) * C + c for conv), and C[m][o] the exact int32 sum of the windowed products:
//   Exact   sum a * b (the 8-bit baseline, or plain low-bit codes);
//   Window  bSPARQ: every code gets its n-bit window on its own;
//   Pairs   vSPARQ: codes (k, k + 1) for even k share a slot (kernels/bit_window.cuh's pair rule;
//           an odd K's last code pairs with a phantom zero);
//   Stc     vSPARQ on 2:4 weights: per aligned group of 4 at one output, the positions of the
//           first two non-zero weights fill the slots (kernels/sparq.cuh); more than two non-zero
//           weights in a group is an error.
// sparq_gemm_reference evaluates every (m, o) directly: the oracle. sparq_gemm turns the same
// arithmetic into one exact dense int8 GEMM (compress/sparq/int_gemm.h): Window and Pairs
// window A once, since their windows depend on the activations only; Stc expands each group of
// A into 16 slots (the windowed pair of each of the 6 two-position patterns and the lone value of
// each position) and each weight group into the slots of its own pattern.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compress/sparq/int_gemm.h"
#include "kernels/bit_window.cuh"
#include "ops/conv2d.h"

namespace bmc::compress {

enum class SparqMode { Exact, Window, Pairs, Stc };
const char* sparq_mode_name(SparqMode mode);

// True when every aligned group of 4 along K (a shorter tail group counts too) of every row of
// B holds at most two non-zero codes.
bool two_of_four(const int8_t* b, int64_t o, int64_t k);
// Throws when an aligned group of 4 (a shorter tail group counts too) of some row of B holds more
// than two non-zero codes; `what` names the layer in the message.
void check_two_of_four(const int8_t* b, int64_t o, int64_t k, const std::string& what);

void sparq_gemm_reference(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o,
                          SparqMode mode, const BitWindow& window);
void sparq_gemm(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o, SparqMode mode,
                const BitWindow& window, IntGemmPath path = best_int_gemm_path());

// The unsigned codes (kernels/sparq.cuh's sparq_act_code) of x (N, C, H, W) f32, laid out
// channels-last (N, H, W, C) so that im2col copies runs of C codes.
std::vector<uint8_t> act_codes_nhwc(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float step, int bits);
// The tap-major im2col of channels-last u8 codes (N, H, W, C): row m = (n * OH + oh) * OW + ow,
// column k = (r * S + s) * C + c; padding positions are zero codes.
std::vector<uint8_t> im2col_tap_major(const uint8_t* x_nhwc, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh,
                                      int64_t kw, const ops::Conv2dParams& p, int64_t& oh, int64_t& ow);
// A weight (O, C, R, S) as codes in the tap-major order: out[o][(r * S + s) * C + c].
std::vector<int8_t> weights_tap_major(const std::vector<int8_t>& codes, int64_t o, int64_t c, int64_t r, int64_t s);

}  // namespace bmc::compress
