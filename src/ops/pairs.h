// A row split into its even and odd elements, and merged back: the stride-2 moves of parity
// planes (Winograd's F(2x2, 3x3) tiles, stride-2 im2col, the parity input gradient). With AVX2,
// eight pairs at a time through in-register shuffles, then four; compilers turn the plain
// stride-2 loops into element-by-element moves.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

// evens[m] = in[2m] for m < ceil(n / 2), odds[m] = in[2m + 1] for m < n / 2.
inline void split_pairs(float* __restrict evens, float* __restrict odds, const float* __restrict in, int64_t n) {
  int64_t m = 0;
#if BMC_ISA_AVX2
  for (; m + 8 <= n / 2; m += 8) {
    // The shuffles leave each 128-bit lane's evens (odds) in order; the permutation puts the
    // lanes' halves in order.
    const __m256 a = _mm256_loadu_ps(in + 2 * m), b = _mm256_loadu_ps(in + 2 * m + 8);
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(evens + m, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
    _mm256_storeu_ps(odds + m, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; m + 4 <= n / 2; m += 4) {  // rows of 8 and the tails of longer ones
    const __m128 a = _mm_loadu_ps(in + 2 * m), b = _mm_loadu_ps(in + 2 * m + 4);
    _mm_storeu_ps(evens + m, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm_storeu_ps(odds + m, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
#endif
  for (; m < n / 2; ++m) {
    evens[m] = in[2 * m];
    odds[m] = in[2 * m + 1];
  }
  if (n % 2) evens[n / 2] = in[n - 1];
}

// out[2m] = evens[m], out[2m + 1] = odds[m], for the n elements of out.
inline void merge_pairs(float* __restrict out, const float* __restrict evens, const float* __restrict odds, int64_t n) {
  int64_t m = 0;
#if BMC_ISA_AVX2
  for (; m + 8 <= n / 2; m += 8) {
    const __m256 e = _mm256_loadu_ps(evens + m), o = _mm256_loadu_ps(odds + m);
    // Pairs 0, 1 | 4, 5 and 2, 3 | 6, 7 of the lanes, then the lanes' halves in order.
    const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
    _mm256_storeu_ps(out + 2 * m, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(out + 2 * m + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  for (; m + 4 <= n / 2; m += 4) {
    const __m128 e = _mm_loadu_ps(evens + m), o = _mm_loadu_ps(odds + m);
    _mm_storeu_ps(out + 2 * m, _mm_unpacklo_ps(e, o));
    _mm_storeu_ps(out + 2 * m + 4, _mm_unpackhi_ps(e, o));
  }
#endif
  for (; m < n / 2; ++m) {
    out[2 * m] = evens[m];
    out[2 * m + 1] = odds[m];
  }
  if (n % 2) out[n - 1] = evens[n / 2];
}

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
