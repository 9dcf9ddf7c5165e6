// SPARQ convolution on integer codes, in three steps that share kernels/sparq.cuh and
// kernels/bit_window.cuh with the CPU path:
//   codes: one thread per pair of reduction positions writes the tap-major im2col of the
//     activation codes, windowed (bSPARQ) or pair-windowed (vSPARQ) when asked; a non-STC mode's
//     windows depend on the activations only, so one pass serves every output channel;
//   dense / sparse GEMM: one warp per 16 (output channels) x 8 (output pixels) tile walks K in
//     steps of 32 with mma.sync (s8 weights x u8 codes) or, for 2:4 weights, mma.sp on the
//     compressed values and metadata; the epilogue writes C * step_x * step_w[o] + bias as NCHW;
//   STC: one thread per output decodes the metadata of its weight row group by group and applies
//     the slot rule to the two activations of the kept weights (windows depend on the weights).
// Fragments are read straight from global memory: correct first, a shared-memory pipeline is the
// next step for speed.
#include <cstring>

#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"
#include "kernels/mma.cuh"
#include "kernels/sparq.cuh"
#include "kernels/sparq.h"

namespace bmc::BMC_KNS {
namespace {

constexpr int kCodesBlock = 256;
constexpr int kStcBlock = 128;

BMC_DEVICE uint32_t load_u32(const void* p) {
#if defined(__CUDA_ARCH__)
  return *static_cast<const uint32_t*>(p);
#else
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}

BMC_DEVICE void store_outputs(float* y, const int32_t acc[4], int64_t o0, int64_t m0, int lane, const SparqConvShape& s,
                              float step_x, const float* step_w, const float* bias) {
  const int g = lane >> 2, t = lane & 3;
  const int64_t plane = s.oh * s.ow;
  for (int i = 0; i < 4; ++i) {
    const int64_t o = o0 + g + 8 * (i >> 1), m = m0 + 2 * t + (i & 1);
    if (o >= s.o || m >= s.m()) continue;
    y[((m / plane) * s.o + o) * plane + m % plane] =
        sparq_dequantize(acc[i], step_x, step_w[o], bias ? bias[o] : 0.0f);
  }
}

// --- kernels

__global__ void codes_kernel(uint8_t* a, const float* x, SparqConvShape s, int64_t mp, int64_t kp, float step,
                             int bits, int mode, BitWindow window, int* negative) {
  const int64_t half = kp / 2, m_count = s.m(), k_count = s.k(), plane = s.oh * s.ow;
  BMC_GRID_STRIDE_LOOP(i, mp * half) {
    const int64_t m = i / half, k0 = 2 * (i % half);
    int code[2] = {0, 0};
    for (int j = 0; j < 2; ++j) {
      const int64_t k = k0 + j;
      if (m >= m_count || k >= k_count) continue;
      const int64_t img = m / plane, oy = (m % plane) / s.ow, ox = m % s.ow;
      const int64_t tap = k / s.c, ch = k % s.c;
      const int64_t iy = oy * s.stride - s.pad + tap / s.kw, ix = ox * s.stride - s.pad + tap % s.kw;
      if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
      const float v = x[((img * s.c + ch) * s.h + iy) * s.w + ix];
      if (!(v >= 0.0f)) {
        *negative = 1;  // every writer writes 1
        continue;
      }
      code[j] = sparq_act_code(v, step, bits);
    }
    if (mode == static_cast<int>(SparqCodeMode::Window)) {
      code[0] = bit_window_value(code[0], window);
      code[1] = bit_window_value(code[1], window);
    } else if (mode == static_cast<int>(SparqCodeMode::Pairs)) {
      vsparq_pair(code[0], code[1], window, code[0], code[1]);
    }
    a[m * kp + k0] = static_cast<uint8_t>(code[0]);
    a[m * kp + k0 + 1] = static_cast<uint8_t>(code[1]);
  }
}

__global__ void dense_kernel(float* y, const int8_t* w, const uint8_t* a, SparqConvShape s, int64_t kp, float step_x,
                             const float* step_w, const float* bias) {
  const int lane = static_cast<int>(threadIdx.x), g = lane >> 2, t = lane & 3;
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * 8, o0 = static_cast<int64_t>(blockIdx.y) * 16;
  const int8_t* w_lo = w + (o0 + g) * kp;
  const int8_t* w_hi = w + (o0 + g + 8) * kp;
  const uint8_t* a_row = a + (m0 + g) * kp;
  int32_t acc[4] = {0, 0, 0, 0};
  for (int64_t k0 = 0; k0 < kp; k0 += 32) {
    const uint32_t af[4] = {load_u32(w_lo + k0 + 4 * t), load_u32(w_hi + k0 + 4 * t), load_u32(w_lo + k0 + 16 + 4 * t),
                            load_u32(w_hi + k0 + 16 + 4 * t)};
    const uint32_t bf[2] = {load_u32(a_row + k0 + 4 * t), load_u32(a_row + k0 + 16 + 4 * t)};
    mma_m16n8k32_s8u8(acc, af, bf, acc);
  }
  store_outputs(y, acc, o0, m0, lane, s, step_x, step_w, bias);
}

__global__ void sparse_kernel(float* y, const int8_t* values, const uint32_t* metadata, const uint8_t* a,
                              SparqConvShape s, int64_t kp, float step_x, const float* step_w, const float* bias) {
  const int lane = static_cast<int>(threadIdx.x), g = lane >> 2, t = lane & 3;
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * 8, o0 = static_cast<int64_t>(blockIdx.y) * 16;
  const int64_t half = kp / 2, words = kp / 32;
  const int8_t* v_lo = values + (o0 + g) * half;
  const int8_t* v_hi = values + (o0 + g + 8) * half;
  const uint8_t* a_row = a + (m0 + g) * kp;
  int32_t acc[4] = {0, 0, 0, 0};
  for (int64_t k0 = 0; k0 < kp; k0 += 32) {
    const uint32_t af[2] = {load_u32(v_lo + k0 / 2 + 4 * t), load_u32(v_hi + k0 / 2 + 4 * t)};
    const uint32_t bf[2] = {load_u32(a_row + k0 + 4 * t), load_u32(a_row + k0 + 16 + 4 * t)};
    uint32_t meta = 0;
    if (t < 2) {
      const uint32_t lo = metadata[(o0 + g) * words + k0 / 32], hi = metadata[(o0 + g + 8) * words + k0 / 32];
      meta = ((lo >> (16 * t)) & 0xFFFFu) | (((hi >> (16 * t)) & 0xFFFFu) << 16);
    }
    mma_sp_m16n8k32_s8u8(acc, af, bf, acc, meta);
  }
  store_outputs(y, acc, o0, m0, lane, s, step_x, step_w, bias);
}

__global__ void stc_kernel(float* y, const int8_t* values, const uint32_t* metadata, const uint8_t* a,
                           SparqConvShape s, int64_t kp, float step_x, const float* step_w, const float* bias,
                           BitWindow window) {
  const int64_t plane = s.oh * s.ow, half = kp / 2, words = kp / 32;
  BMC_GRID_STRIDE_LOOP(i, s.m() * s.o) {
    const int64_t m = i / s.o, o = i % s.o;
    int32_t acc = 0;
    for (int64_t group = 0; group < kp / 4; ++group) {
      const int nibble = static_cast<int>((metadata[o * words + group / 8] >> (4 * (group % 8))) & 0xF);
      int8_t w[4] = {0, 0, 0, 0};
      w[sparse_meta_lo(nibble)] = values[o * half + 2 * group];
      w[sparse_meta_hi(nibble)] = values[o * half + 2 * group + 1];
      sparq_stc_group(a + m * kp + 4 * group, w, window, acc);
    }
    y[((m / plane) * s.o + o) * plane + m % plane] = sparq_dequantize(acc, step_x, step_w[o], bias ? bias[o] : 0.0f);
  }
}

}  // namespace

// --- launchers

void sparq_codes(uint8_t* a, const float* x, const SparqConvShape& s, int64_t mp, int64_t kp, float step, int bits,
                 SparqCodeMode mode, BitWindow window, int* negative, StreamRef stream, int grid_limit) {
  if (mp == 0 || kp == 0) return;
  launch("sparq_codes_kernel", codes_kernel, grid_for(mp * kp / 2, kCodesBlock, grid_limit), kCodesBlock, stream, a, x,
         s, mp, kp, step, bits, static_cast<int>(mode), window, negative);
}

void sparq_gemm_dense(float* y, const int8_t* w, const uint8_t* a, const SparqConvShape& s, int64_t op, int64_t mp,
                      int64_t kp, float step_x, const float* step_w, const float* bias, StreamRef stream) {
  if (mp == 0 || op == 0) return;
  launch("sparq_dense_kernel", dense_kernel, dim3(static_cast<unsigned>(mp / 8), static_cast<unsigned>(op / 16)), 32,
         stream, y, w, a, s, kp, step_x, step_w, bias);
}

void sparq_gemm_sparse(float* y, const int8_t* values, const uint32_t* metadata, const uint8_t* a,
                       const SparqConvShape& s, int64_t op, int64_t mp, int64_t kp, float step_x, const float* step_w,
                       const float* bias, StreamRef stream) {
  if (mp == 0 || op == 0) return;
  launch("sparq_sparse_kernel", sparse_kernel, dim3(static_cast<unsigned>(mp / 8), static_cast<unsigned>(op / 16)),
         32, stream, y, values, metadata, a, s, kp, step_x, step_w, bias);
}

void sparq_gemm_stc(float* y, const int8_t* values, const uint32_t* metadata, const uint8_t* a,
                    const SparqConvShape& s, int64_t kp, float step_x, const float* step_w, const float* bias,
                    BitWindow window, StreamRef stream, int grid_limit) {
  if (s.m() == 0 || s.o == 0) return;
  launch("sparq_stc_kernel", stc_kernel, grid_for(s.m() * s.o, kStcBlock, grid_limit), kStcBlock, stream, y, values,
         metadata, a, s, kp, step_x, step_w, bias, window);
}

}  // namespace bmc::BMC_KNS
