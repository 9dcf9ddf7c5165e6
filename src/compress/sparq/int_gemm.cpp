#include "compress/sparq/int_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace bmc::compress {
namespace {

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

void gemm_portable(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < o; ++j) {
      int32_t acc = 0;
      for (int64_t t = 0; t < k; ++t) acc += static_cast<int32_t>(a[i * k + t]) * b[j * k + t];
      c[i * o + j] = acc;
    }
}

// A with its rows padded to a multiple of `group` codes (a copy only when k is not already one).
struct RowsOfA {
  const uint8_t* data;
  int64_t stride;
  std::vector<uint8_t> copy;
  RowsOfA(const uint8_t* a, int64_t m, int64_t k, int64_t group) : data(a), stride(round_up(k, group)) {
    if (stride == k) return;
    copy.assign(static_cast<size_t>(m * stride), 0);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; ++i) std::memcpy(copy.data() + i * stride, a + i * k, static_cast<size_t>(k));
    data = copy.data();
  }
};

// Both SIMD paths keep output channels in vector lanes, so no horizontal sums: B is packed per
// block of `lanes` outputs as [k group][output][codes of the group], A's codes of one k group are
// broadcast, and each multiply-add adds the group's products into every output lane at once. A
// tile is MR rows of A by NB blocks of outputs; rows past m read a zero row, outputs past o are
// masked off at the store.
constexpr int kAvx2Rows = 4, kVnniRows = 8;  // rows of A per tile

template <class T>
std::vector<T> pack_b(const int8_t* b, int64_t k, int64_t o, int lanes, int group) {
  const int64_t groups = round_up(k, group) / group, blocks = round_up(o, lanes) / lanes;
  std::vector<T> out(static_cast<size_t>(blocks * groups * lanes * group), T(0));
  for (int64_t j = 0; j < o; ++j)
    for (int64_t t = 0; t < k; ++t)
      out[((j / lanes * groups + t / group) * lanes + j % lanes) * group + t % group] = static_cast<T>(b[j * k + t]);
  return out;
}

// AVX2: 8 outputs per vector, k in pairs (vpmaddwd: two 16-bit products summed into 32 bits).
template <int NB>
__attribute__((target("avx2"))) void tile_avx2(const uint8_t* const* rows, const int16_t* bp, int64_t groups,
                                              int32_t* c, int64_t o, int64_t j0, int64_t mr) {
  constexpr int MR = kAvx2Rows;
  __m256i acc[MR][NB];
  for (auto& row : acc)
    for (auto& v : row) v = _mm256_setzero_si256();
  const uint8_t* row[MR];
  for (int r = 0; r < MR; ++r) row[r] = rows[r];
  for (int64_t g = 0; g < groups; ++g) {
    __m256i bv[NB];
#pragma GCC unroll 2
    for (int n = 0; n < NB; ++n) bv[n] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + (n * groups + g) * 16));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256i av =
          _mm256_set1_epi32(static_cast<int32_t>(row[r][2 * g]) | (static_cast<int32_t>(row[r][2 * g + 1]) << 16));
#pragma GCC unroll 2
      for (int n = 0; n < NB; ++n) acc[r][n] = _mm256_add_epi32(acc[r][n], _mm256_madd_epi16(av, bv[n]));
    }
  }
  for (int r = 0; r < mr; ++r)
    for (int n = 0; n < NB; ++n) {
      const int64_t j = j0 + 8 * n;
      const int live = static_cast<int>(std::min<int64_t>(8, o - j));
      if (live <= 0) continue;
      const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(live), lane);
      _mm256_maskstore_epi32(c + r * o + j, mask, acc[r][n]);
    }
}

// (The row pointers are copied into the tile and every loop over registers is unrolled: without
// that g++ keeps the accumulators on the stack.)

// AVX-512 VNNI: 16 outputs per vector, k in fours (vpdpbusd: four u8 x s8 products summed into
// each 32-bit lane, no saturation).
template <int NB>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tile_vnni(const uint8_t* const* rows, const int8_t* bp,
                                                                     int64_t groups, int32_t* c, int64_t o, int64_t j0,
                                                                     int64_t mr) {
  constexpr int MR = kVnniRows;
  __m512i acc[MR][NB];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_si512();
  const uint8_t* row[MR];
  for (int r = 0; r < MR; ++r) row[r] = rows[r];
  for (int64_t g = 0; g < groups; ++g) {
    __m512i bv[NB];
#pragma GCC unroll 2
    for (int n = 0; n < NB; ++n) bv[n] = _mm512_loadu_si512(bp + (n * groups + g) * 64);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t quad;
      std::memcpy(&quad, row[r] + 4 * g, 4);
      const __m512i av = _mm512_set1_epi32(quad);
#pragma GCC unroll 2
      for (int n = 0; n < NB; ++n) acc[r][n] = _mm512_dpbusd_epi32(acc[r][n], av, bv[n]);
    }
  }
  for (int r = 0; r < mr; ++r)
    for (int n = 0; n < NB; ++n) {
      const int64_t j = j0 + 16 * n;
      const int64_t live = std::min<int64_t>(16, o - j);
      if (live <= 0) continue;
      _mm512_mask_storeu_epi32(c + r * o + j, static_cast<__mmask16>((1u << live) - 1u), acc[r][n]);
    }
}

// The row blocks of C (threads) by pairs of output blocks, one tile each; `Tile<NB>` is an ISA's
// tile over NB blocks of `Lanes` outputs, its B packed in groups of `Group` codes of type T.
template <int MR, int Lanes, int Group, class T, template <int> class Tile>
void gemm_tiled(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o) {
  const RowsOfA ra(a, m, k, Group);
  const std::vector<T> bp = pack_b<T>(b, k, o, Lanes, Group);
  const std::vector<uint8_t> zero(static_cast<size_t>(ra.stride), 0);
  const int64_t groups = ra.stride / Group, blocks = round_up(o, Lanes) / Lanes, block_size = groups * Lanes * Group;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; i += MR) {
    const uint8_t* rows[MR];
    for (int r = 0; r < MR; ++r) rows[r] = i + r < m ? ra.data + (i + r) * ra.stride : zero.data();
    const int64_t mr = std::min<int64_t>(MR, m - i);
    int64_t blk = 0;
    for (; blk + 2 <= blocks; blk += 2) Tile<2>::run(rows, bp.data() + blk * block_size, groups, c + i * o, o, blk * Lanes, mr);
    if (blk < blocks) Tile<1>::run(rows, bp.data() + blk * block_size, groups, c + i * o, o, blk * Lanes, mr);
  }
}

template <int NB>
struct Avx2Tile {
  static void run(const uint8_t* const* rows, const int16_t* bp, int64_t groups, int32_t* c, int64_t o, int64_t j0,
                  int64_t mr) {
    tile_avx2<NB>(rows, bp, groups, c, o, j0, mr);
  }
};

template <int NB>
struct VnniTile {
  static void run(const uint8_t* const* rows, const int8_t* bp, int64_t groups, int32_t* c, int64_t o, int64_t j0,
                  int64_t mr) {
    tile_vnni<NB>(rows, bp, groups, c, o, j0, mr);
  }
};

void gemm_avx2(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o) {
  gemm_tiled<kAvx2Rows, 8, 2, int16_t, Avx2Tile>(a, b, c, m, k, o);
}

void gemm_vnni(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o) {
  gemm_tiled<kVnniRows, 16, 4, int8_t, VnniTile>(a, b, c, m, k, o);
}

}  // namespace

const char* int_gemm_path_name(IntGemmPath path) {
  switch (path) {
    case IntGemmPath::Portable: return "portable";
    case IntGemmPath::Avx2: return "avx2";
    case IntGemmPath::Avx512Vnni: return "avx512-vnni";
  }
  return "?";
}

bool int_gemm_path_supported(IntGemmPath path) {
  switch (path) {
    case IntGemmPath::Portable: return true;
    case IntGemmPath::Avx2: return __builtin_cpu_supports("avx2");
    case IntGemmPath::Avx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

IntGemmPath best_int_gemm_path() {
  static const IntGemmPath best = [] {
    IntGemmPath p = IntGemmPath::Portable;
    for (IntGemmPath candidate : {IntGemmPath::Avx2, IntGemmPath::Avx512Vnni})
      if (int_gemm_path_supported(candidate)) p = candidate;
    if (const char* forced = std::getenv("BMC_INT_GEMM")) {
      bool known = false;
      for (IntGemmPath candidate : {IntGemmPath::Portable, IntGemmPath::Avx2, IntGemmPath::Avx512Vnni})
        if (!std::strcmp(forced, int_gemm_path_name(candidate))) {
          BMC_CHECK(int_gemm_path_supported(candidate), "BMC_INT_GEMM=", forced, ": this CPU does not run it");
          p = candidate;
          known = true;
        }
      BMC_CHECK(known, "BMC_INT_GEMM=", forced, ": expected portable, avx2 or avx512-vnni");
    }
    return p;
  }();
  return best;
}

void int_gemm_u8s8(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o, IntGemmPath path) {
  BMC_CHECK(m >= 0 && k >= 0 && o >= 0, "int_gemm_u8s8: negative size");
  BMC_CHECK(int_gemm_path_supported(path), "int_gemm_u8s8: this CPU does not run the ", int_gemm_path_name(path),
            " path");
  if (m == 0 || o == 0) return;
  switch (path) {
    case IntGemmPath::Portable: return gemm_portable(a, b, c, m, k, o);
    case IntGemmPath::Avx2: return gemm_avx2(a, b, c, m, k, o);
    case IntGemmPath::Avx512Vnni: return gemm_vnni(a, b, c, m, k, o);
  }
}

}  // namespace bmc::compress
