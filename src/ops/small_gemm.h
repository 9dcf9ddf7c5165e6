// A register-blocked single-precision GEMM for the shapes of convolutions on one image:
//   C (M x N) = A (M x K) * B (K x N)   [or C += ...]
// with A packed once per call into panels of 8 rows (the filter) and B row-major with contiguous
// rows (an im2col matrix, or the image itself for 1x1 convolutions). M (output channels, or
// filter taps) is small and N (pixels) long, where OpenBLAS spends as much time packing as
// multiplying. Tiles of 8 rows (AVX-512) or 4 rows (AVX2 and SSE, whose 16 registers would spill
// 24 accumulators) x 3 vectors of columns accumulate in registers; the vectors are those of the
// copy's instruction set (core/cpu_isa.h): AVX-512 or AVX2 with fused multiply-adds, SSE on the
// x86 baseline with a multiply and an add, scalar fused multiply-adds elsewhere. Long inner
// dimensions run in blocks that fit in L1. Every element of C is the same chain of multiply-adds
// over k = 0..K-1, whatever the tile or the tail: results do not depend on M, N or threading, and
// the AVX2 and AVX-512 copies give the same bits (the SSE one rounds each product first).
#pragma once

#include <cstdint>
#include <vector>
#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

constexpr int kGemmPanelRows = 8;

// A (M x K), element (m, k) at a[m * row_stride + k * col_stride], packed into panels:
// panel p holds rows 8p..8p+7 as packed[(p * K + k) * 8 + i] (rows past M are zero).
std::vector<float> pack_gemm_panels(const float* a, int64_t m, int64_t k, int64_t row_stride, int64_t col_stride);
// The same into `packed`, which holds gemm_panels_size(m, k) floats.
void pack_gemm_panels(float* packed, const float* a, int64_t m, int64_t k, int64_t row_stride, int64_t col_stride);
int64_t gemm_panels_size(int64_t m, int64_t k);

// C (ldc) = or += A (packed) * B (ldb).
void small_gemm(int64_t m, int64_t n, int64_t k, const float* a_panels, const float* b, int64_t ldb, float* c,
                int64_t ldc, bool accumulate);

// The same with row p of B at b + row_offsets[p] (rows of B read in place, e.g. the taps of a
// stride-1 convolution from a padded image).
void small_gemm_rows(int64_t m, int64_t n, int64_t k, const float* a_panels, const float* b,
                     const int64_t* row_offsets, float* c, int64_t ldc, bool accumulate);

// The vector instructions small_gemm was built for: "avx512", "avx2", "sse" or "scalar".
const char* small_gemm_isa();

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
