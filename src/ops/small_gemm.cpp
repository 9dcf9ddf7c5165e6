#include "ops/small_gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {
namespace {

// One SIMD vector of floats and the operations the tile needs. A Mask selects the valid lanes of
// the last vector of a row (the rest load as 0 and are not stored).
#if BMC_ISA_AVX512
constexpr int kLanes = 16;
using Vec = __m512;
using Mask = __mmask16;
constexpr const char* kIsa = "avx512";
Mask lanes_mask(int valid) { return static_cast<Mask>((1u << valid) - 1u); }
Vec vzero() { return _mm512_setzero_ps(); }
Vec vbroadcast(const float* p) { return _mm512_set1_ps(*p); }
Vec vload(const float* p) { return _mm512_loadu_ps(p); }
Vec vload(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
void vstore(float* p, Vec v) { _mm512_storeu_ps(p, v); }
void vstore(float* p, Vec v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
#elif BMC_ISA_AVX2
constexpr int kLanes = 8;
using Vec = __m256;
using Mask = __m256i;
constexpr const char* kIsa = "avx2";
Mask lanes_mask(int valid) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
Vec vzero() { return _mm256_setzero_ps(); }
Vec vbroadcast(const float* p) { return _mm256_broadcast_ss(p); }
Vec vload(const float* p) { return _mm256_loadu_ps(p); }
Vec vload(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
void vstore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
void vstore(float* p, Vec v, Mask m) { _mm256_maskstore_ps(p, m, v); }
Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
#elif BMC_ISA_X86
// The x86-64-v2 baseline: SSE vectors, and no fused multiply-add (std::fma would be a call per
// multiply-add, 50 times slower), so each product is rounded before its addition.
constexpr int kLanes = 4;
using Vec = __m128;
using Mask = int;  // the valid lanes, counted
constexpr const char* kIsa = "sse";
Mask lanes_mask(int valid) { return valid; }
Vec vzero() { return _mm_setzero_ps(); }
Vec vbroadcast(const float* p) { return _mm_set1_ps(*p); }
Vec vload(const float* p) { return _mm_loadu_ps(p); }
Vec vload(const float* p, Mask valid) {
  alignas(16) float lanes[kLanes] = {};
  for (int i = 0; i < valid; ++i) lanes[i] = p[i];
  return _mm_load_ps(lanes);
}
void vstore(float* p, Vec v) { _mm_storeu_ps(p, v); }
void vstore(float* p, Vec v, Mask valid) {
  alignas(16) float lanes[kLanes];
  _mm_store_ps(lanes, v);
  for (int i = 0; i < valid; ++i) p[i] = lanes[i];
}
Vec vfma(Vec a, Vec b, Vec c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
#else
constexpr int kLanes = 1;
using Vec = float;
using Mask = bool;
constexpr const char* kIsa = "scalar";
Mask lanes_mask(int valid) { return valid > 0; }
Vec vzero() { return 0.0f; }
Vec vbroadcast(const float* p) { return *p; }
Vec vload(const float* p) { return *p; }
Vec vload(const float* p, Mask m) { return m ? *p : 0.0f; }
void vstore(float* p, Vec v) { *p = v; }
void vstore(float* p, Vec v, Mask m) {
  if (m) *p = v;
}
Vec vfma(Vec a, Vec b, Vec c) { return std::fma(a, b, c); }
#endif

constexpr int kTileVectors = 3;

// Loads B's row once into registers: left alone, GCC folds the load into every row's multiply-add
// (4 or 8 loads of the same vector per step), and the loads, not the multiply-adds, bound the
// tile (AVX2: 54 against 77 GFLOP/s per core on data in L1).
inline void keep_in_register(Vec& v) {
#if BMC_ISA_AVX512
  asm("" : "+v"(v));
#elif BMC_ISA_X86
  asm("" : "+x"(v));
#else
  (void)v;
#endif
}

// Vector j of a tile's row: the last one masked in a tail tile.
template <int NV, bool kTail>
Vec load_column(const float* p, int j, Mask tail) {
  if constexpr (kTail)
    if (j == NV - 1) return vload(p, tail);
  return vload(p);
}

template <int NV, bool kTail>
void store_column(float* p, int j, Vec v, Mask tail) {
  if constexpr (kTail)
    if (j == NV - 1) return vstore(p, v, tail);
  vstore(p, v);
}

// Where row p of B starts: a fixed stride, or a table of offsets (the taps of a convolution read
// straight from a padded image).
struct StridedRows {
  const float* b;
  int64_t ldb;
  const float* operator()(int64_t p) const { return b + p * ldb; }
  StridedRows shifted(int64_t n0) const { return {b + n0, ldb}; }
  StridedRows from_row(int64_t p0) const { return {b + p0 * ldb, ldb}; }
};
struct OffsetRows {
  const float* b;
  const int64_t* offsets;
  const float* operator()(int64_t p) const { return b + offsets[p]; }
  OffsetRows shifted(int64_t n0) const { return {b + n0, offsets}; }
  OffsetRows from_row(int64_t p0) const { return {b, offsets + p0}; }
};

// C rows [0, MR) x NV vectors of columns = or += A panel * B; in a tail tile the last vector is
// masked. The accumulators live in registers (MR * NV of them, at most 24). `panel` may start
// inside a panel (its rows 4..7); the rows are still 8 floats apart.
template <int MR, int NV, bool kTail, class Rows>
void tile(int64_t k, const float* panel, Rows rows_of_b, float* c, int64_t ldc, bool accumulate, Mask tail) {
  Vec acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int j = 0; j < NV; ++j)
      acc[i][j] = accumulate ? load_column<NV, kTail>(c + i * ldc + j * kLanes, j, tail) : vzero();
  for (int64_t p = 0; p < k; ++p) {
    const float* row = rows_of_b(p);
    Vec bv[NV];
#pragma GCC unroll 3
    for (int j = 0; j < NV; ++j) {
      bv[j] = load_column<NV, kTail>(row + j * kLanes, j, tail);
      keep_in_register(bv[j]);
    }
    const float* a = panel + p * kGemmPanelRows;
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const Vec av = vbroadcast(a + i);
#pragma GCC unroll 3
      for (int j = 0; j < NV; ++j) acc[i][j] = vfma(av, bv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int j = 0; j < NV; ++j) store_column<NV, kTail>(c + i * ldc + j * kLanes, j, acc[i][j], tail);
}

// A panel's rows in tiles of kTileRows: all 8 with AVX-512's 32 vector registers (24
// accumulators), 4 with AVX2's 16 (12 accumulators, 3 of B and the broadcast; 8 rows would spill
// the accumulators to the stack on every multiply-add). Each element of C keeps its own chain.
#if BMC_ISA_AVX512
constexpr int kTileRows = 8;
#else
constexpr int kTileRows = 4;
#endif

template <int NV, bool kTail, class Rows>
void rows_tile(int rows, int64_t k, const float* panel, Rows b, float* c, int64_t ldc, bool accumulate, Mask tail) {
  switch (rows) {
    case 1: return tile<1, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
    case 2: return tile<2, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
    case 3: return tile<3, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
  }
  if constexpr (kTileRows == 8) {
    switch (rows) {
      case 4: return tile<4, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
      case 5: return tile<5, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
      case 6: return tile<6, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
      case 7: return tile<7, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
    }
  }
  return tile<kTileRows, NV, kTail>(k, panel, b, c, ldc, accumulate, tail);
}

template <int NV, bool kTail, class Rows>
void panel_tile(int rows, int64_t k, const float* panel, Rows b, float* c, int64_t ldc, bool accumulate, Mask tail) {
  for (int i0 = 0; i0 < rows; i0 += kTileRows)
    rows_tile<NV, kTail>(std::min(kTileRows, rows - i0), k, panel + i0, b, c + i0 * ldc, ldc, accumulate, tail);
}

// One column tile (NV vectors, the last `last` lanes wide) for every panel, over the inner range
// of `a_panels` (panels `panel_stride` floats apart) and `b` that starts there.
template <int NV, class Rows>
void column_tile(int64_t m, int64_t k, const float* a_panels, int64_t panel_stride, Rows b, float* c, int64_t ldc,
                 bool accumulate, int last) {
  const Mask tail = lanes_mask(last);
  for (int64_t m0 = 0; m0 < m; m0 += kGemmPanelRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kGemmPanelRows, m - m0));
    const float* panel = a_panels + m0 / kGemmPanelRows * panel_stride;
    if (last == kLanes)
      panel_tile<NV, false>(rows, k, panel, b, c + m0 * ldc, ldc, accumulate, tail);
    else
      panel_tile<NV, true>(rows, k, panel, b, c + m0 * ldc, ldc, accumulate, tail);
  }
}

// Column tiles outside, panels inside: a tile's slice of B stays in cache for every panel. Tiles
// are 3 vectors wide; a remainder of 4 vectors is split 2 + 2 (a 1-vector tile is bound by its 8
// broadcasts per 8 multiply-adds). A long inner dimension (the pixels of a filter gradient) is
// cut into blocks whose slices of A and B fit in L1; a block continues the accumulators stored
// by the one before, so every element of C is still one unbroken chain of fused multiply-adds.
constexpr int64_t kInnerBlock = 256;

// With many rows in A (ImageNet ResNets' 256 and 512 channels), a tile's slice of B is read once
// per tile of rows, 64 times and more: copied first into a contiguous block (at most
// kInnerBlock x 3 vectors), it stays in L1 for all of them, where read in place its rows lie far
// apart (a column matrix's rows, or taps of a padded image), straddle cache lines and left L1
// for L2. With few rows the copy costs about what it saves.
constexpr int64_t kCopySliceRows = 128;

template <int NV, class Rows>
void column_tile_of(int64_t m, int64_t kc, const float* a_block, int64_t panel_stride, Rows b, float* c, int64_t ldc,
                    bool continues, int last, float* slice) {
  if (!slice) return column_tile<NV>(m, kc, a_block, panel_stride, b, c, ldc, continues, last);
  constexpr int64_t width = int64_t{NV} * kLanes;
  const size_t bytes = sizeof(float) * static_cast<size_t>((NV - 1) * kLanes + last);
  for (int64_t p = 0; p < kc; ++p) std::memcpy(slice + p * width, b(p), bytes);
  column_tile<NV>(m, kc, a_block, panel_stride, StridedRows{slice, width}, c, ldc, continues, last);
}

template <class Rows>
void gemm(int64_t m, int64_t n, int64_t k, const float* a_panels, Rows b, float* c, int64_t ldc, bool accumulate) {
  const int64_t vectors = (n + kLanes - 1) / kLanes, panel_stride = k * kGemmPanelRows;
  thread_local std::vector<float> slice_buffer;
  float* slice = nullptr;
  if (m >= kCopySliceRows) {
    slice_buffer.resize(static_cast<size_t>(kInnerBlock * kTileVectors * kLanes));
    slice = slice_buffer.data();
  }
  for (int64_t k0 = 0; k0 == 0 || k0 < k; k0 += kInnerBlock) {  // k = 0 still writes C
    const int64_t kc = std::min(kInnerBlock, k - k0);
    const bool continues = accumulate || k0 > 0;
    const float* a_block = a_panels + k0 * kGemmPanelRows;
    const Rows b_block = b.from_row(k0);
    int64_t v0 = 0;
    while (v0 < vectors) {
      const int64_t remaining = vectors - v0;
      const int width = remaining == 4 || remaining == 2 ? 2 : remaining == 1 ? 1 : kTileVectors;
      const int64_t n0 = v0 * kLanes;
      const int last = static_cast<int>(std::min<int64_t>(n - n0 - int64_t{width - 1} * kLanes, kLanes));
      if (width == 3)
        column_tile_of<3>(m, kc, a_block, panel_stride, b_block.shifted(n0), c + n0, ldc, continues, last, slice);
      else if (width == 2)
        column_tile_of<2>(m, kc, a_block, panel_stride, b_block.shifted(n0), c + n0, ldc, continues, last, slice);
      else
        column_tile_of<1>(m, kc, a_block, panel_stride, b_block.shifted(n0), c + n0, ldc, continues, last, slice);
      v0 += width;
    }
  }
}

}  // namespace

int64_t gemm_panels_size(int64_t m, int64_t k) {
  return (m + kGemmPanelRows - 1) / kGemmPanelRows * k * kGemmPanelRows;
}

void pack_gemm_panels(float* packed, const float* a, int64_t m, int64_t k, int64_t row_stride, int64_t col_stride) {
  // A large filter (ImageNet ResNets' 2.4 M weights) is packed by all threads: outside the
  // convolution's parallel loop, one thread packing while the other waits cost 10% of a batch of 8.
#pragma omp parallel for schedule(static) if (m * k >= (int64_t{1} << 16) && !omp_in_parallel())
  for (int64_t m0 = 0; m0 < m; m0 += kGemmPanelRows) {
    float* panel = packed + m0 * k;
    const int rows = static_cast<int>(std::min<int64_t>(kGemmPanelRows, m - m0));
    if (rows < kGemmPanelRows) std::fill(panel, panel + k * kGemmPanelRows, 0.0f);
    for (int i = 0; i < rows; ++i) {
      const float* row = a + (m0 + i) * row_stride;
      for (int64_t kk = 0; kk < k; ++kk) panel[kk * kGemmPanelRows + i] = row[kk * col_stride];
    }
  }
}

std::vector<float> pack_gemm_panels(const float* a, int64_t m, int64_t k, int64_t row_stride, int64_t col_stride) {
  std::vector<float> packed(static_cast<size_t>(gemm_panels_size(m, k)));
  pack_gemm_panels(packed.data(), a, m, k, row_stride, col_stride);
  return packed;
}

void small_gemm(int64_t m, int64_t n, int64_t k, const float* a_panels, const float* b, int64_t ldb, float* c,
                int64_t ldc, bool accumulate) {
  gemm(m, n, k, a_panels, StridedRows{b, ldb}, c, ldc, accumulate);
}

void small_gemm_rows(int64_t m, int64_t n, int64_t k, const float* a_panels, const float* b,
                     const int64_t* row_offsets, float* c, int64_t ldc, bool accumulate) {
  gemm(m, n, k, a_panels, OffsetRows{b, row_offsets}, c, ldc, accumulate);
}

const char* small_gemm_isa() { return kIsa; }

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
