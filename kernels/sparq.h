// Launchers for kernels/sparq.cu: SPARQ convolution on integer codes (see there). Shapes are
// padded for the tensor-core tiles: rows of the weight matrix to op (a multiple of 16), output
// pixels to mp (a multiple of 8), the tap-major reduction to kp (a multiple of 32), padding zero.
#pragma once

#include <cstdint>

#include "kernels/bit_window.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

struct SparqConvShape {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input
  int64_t kh = 0, kw = 0, stride = 1, pad = 0;
  int64_t oh = 0, ow = 0, o = 0;       // output
  BMC_HD int64_t m() const { return n * oh * ow; }
  BMC_HD int64_t k() const { return c * kh * kw; }
};

// How the codes kernel treats each activation (compress::SparqMode without STC, whose windows
// depend on the weights and are applied by the STC GEMM).
enum class SparqCodeMode : int { Exact = 0, Window = 1, Pairs = 2 };

// a (mp x kp) u8: the tap-major im2col of the codes of x (N, C, H, W) f32 at `step` (`bits` bits),
// windowed by `mode`; *negative is set to 1 when x holds a negative value.
void sparq_codes(uint8_t* a, const float* x, const SparqConvShape& s, int64_t mp, int64_t kp, float step, int bits,
                 SparqCodeMode mode, BitWindow window, int* negative, StreamRef stream, int grid_limit = 0);

// y (N, O, OH, OW) f32 = C * step_x * step_w[o] + bias[o] with C = W a^T in int32 on tensor cores:
// w (op x kp) s8 (mma.sync m16n8k32), or its 2:4 compressed form (values op x kp / 2, metadata
// op x kp / 32 words; mma.sp). bias may be null.
void sparq_gemm_dense(float* y, const int8_t* w, const uint8_t* a, const SparqConvShape& s, int64_t op, int64_t mp,
                      int64_t kp, float step_x, const float* step_w, const float* bias, StreamRef stream);
void sparq_gemm_sparse(float* y, const int8_t* values, const uint32_t* metadata, const uint8_t* a,
                       const SparqConvShape& s, int64_t op, int64_t mp, int64_t kp, float step_x, const float* step_w,
                       const float* bias, StreamRef stream);
// STC: per output and group of 4, the metadata names the kept weights and the slot rule pairs
// their activations (raw codes in a) under `window`; CUDA cores, one thread per output.
void sparq_gemm_stc(float* y, const int8_t* values, const uint32_t* metadata, const uint8_t* a,
                    const SparqConvShape& s, int64_t kp, float step_x, const float* step_w, const float* bias,
                    BitWindow window, StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
