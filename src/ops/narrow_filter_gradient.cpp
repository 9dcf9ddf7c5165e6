#include "ops/narrow_filter_gradient.h"

#include <immintrin.h>

#include <algorithm>

#include "core/error.h"
#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {
namespace {

#if BMC_ISA_AVX2

constexpr int kLanes = 8;
constexpr int kOutputBlock = 4;  // x 3 filter columns: 12 accumulators of the 16 registers

float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <bool kMasked>
__m256 load(const float* p, __m256i mask) {
  if constexpr (kMasked) return _mm256_maskload_ps(p, mask);
  return _mm256_loadu_ps(p);
}

// acc[i][s] += dy row i's vector times the input vector s columns on. Inlined with every index a
// constant, so the accumulators stay in registers: the S input vectors are loaded first and
// held, then each dy vector is loaded once for its S products (12 sums, 3 of x and 1 of dy fill
// AVX2's 16 registers; 7 loads per 12 multiply-adds, where folding dy into every multiply-add
// took 15 and bound the loop).
template <int KB, int S, bool kMasked>
__attribute__((always_inline)) inline void multiply_add(__m256 (&acc)[KB][S], const float* xrow, const float* dyrow,
                                                        int64_t pq, __m256i mask) {
  __m256 x[S];
#pragma GCC unroll 3
  for (int s = 0; s < S; ++s) {
    x[s] = load<kMasked>(xrow + s, mask);
    asm("" : "+x"(x[s]));
  }
#pragma GCC unroll 4
  for (int i = 0; i < KB; ++i) {
    __m256 d = load<kMasked>(dyrow + i * pq, mask);
    asm("" : "+x"(d));
#pragma GCC unroll 3
    for (int s = 0; s < S; ++s) acc[i][s] = _mm256_fmadd_ps(d, x[s], acc[i][s]);
  }
}

// Taps (c, r, 0..S) of output channels [o0, o0 + KB): the products of dy's rows with the input
// rows they see, summed lane-wise over every pixel, then across the lanes.
template <int KB, int S>
void filter_row(float* partial, const float* xpad, const float* dy, int o0, int k, int c, int r,
                const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w;
  const int64_t plane = int64_t{g.h + 2 * g.pad_h} * wp, pq = g.col_cols();
  const int full = g.q / kLanes, tail = g.q % kLanes;
  const __m256i tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 acc[KB][S];
#pragma GCC unroll 4
  for (int i = 0; i < KB; ++i)
#pragma GCC unroll 3
    for (int s = 0; s < S; ++s) acc[i][s] = _mm256_setzero_ps();
  for (int p = 0; p < g.p; ++p) {
    const float* xrow = xpad + c * plane + int64_t{p + r} * wp;  // stride 1: output row p reads input row p + r
    const float* dyrow = dy + o0 * pq + int64_t{p} * g.q;
    for (int v = 0; v < full; ++v)
      multiply_add<KB, S, false>(acc, xrow + v * kLanes, dyrow + v * kLanes, pq, tail_mask);
    if (tail) multiply_add<KB, S, true>(acc, xrow + full * kLanes, dyrow + full * kLanes, pq, tail_mask);
  }
#pragma GCC unroll 3
  for (int s = 0; s < S; ++s) {
    float* taps = partial + ((int64_t{c} * g.r + r) * g.s + s) * k + o0;
#pragma GCC unroll 4
    for (int i = 0; i < KB; ++i) taps[i] += horizontal_sum(acc[i][s]);
  }
}

template <int S>
void filter_rows(float* partial, const float* xpad, const float* dy, int k, const ConvGeometry& g) {
  for (int o0 = 0; o0 < k; o0 += kOutputBlock)  // dy's rows of one block stay in L1 over every tap
    for (int c = 0; c < g.c; ++c)
      for (int r = 0; r < g.r; ++r) switch (std::min(kOutputBlock, k - o0)) {
          case 4: filter_row<4, S>(partial, xpad, dy, o0, k, c, r, g); break;
          case 3: filter_row<3, S>(partial, xpad, dy, o0, k, c, r, g); break;
          case 2: filter_row<2, S>(partial, xpad, dy, o0, k, c, r, g); break;
          default: filter_row<1, S>(partial, xpad, dy, o0, k, c, r, g); break;
        }
}

#endif

}  // namespace

bool narrow_filter_gradient_fits(const ConvGeometry& g) {
#if BMC_ISA_AVX2
  return g.stride_h == 1 && g.stride_w == 1 && g.s >= 1 && g.s <= 3;
#else
  (void)g;
  return false;
#endif
}

void accumulate_narrow_filter_gradient(float* partial, const float* xpad, const float* dy, int k,
                                       const ConvGeometry& g) {
  BMC_CHECK(narrow_filter_gradient_fits(g), "narrow filter gradient: not built for this geometry");
#if BMC_ISA_AVX2
  switch (g.s) {
    case 1: return filter_rows<1>(partial, xpad, dy, k, g);
    case 2: return filter_rows<2>(partial, xpad, dy, k, g);
    default: return filter_rows<3>(partial, xpad, dy, k, g);
  }
#else
  (void)partial, (void)xpad, (void)dy, (void)k;
#endif
}

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
