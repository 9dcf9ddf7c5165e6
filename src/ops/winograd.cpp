#include "ops/winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/error.h"
#include "core/isa_target.h"
#include "ops/pairs.h"
#include "ops/small_gemm.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

namespace {

// The transformed input and the products of one GEMM batch stay within this many bytes together
// (an L2 of these machines), which bounds the columns one batch covers.
constexpr int64_t kBufferBytes = 512 * 1024;

// Positions of the transformed tile: (tile + 2)^2 for tile x tile outputs.
int positions(int tile) { return (tile + 2) * (tile + 2); }

int64_t columns_within_budget(int c, int k, int tile) {
  return kBufferBytes / (int64_t{positions(tile)} * (c + k) * int64_t{sizeof(float)});
}

// The positions' matrices lie this far apart: their size plus one cache line, so that their
// rows, read and written together by the transforms, do not all map to the same L1 sets when the
// size is a multiple of 4 KiB (it is for every ResNet layer).
int64_t position_stride(int64_t size) { return (size + 15) / 16 * 16 + 16; }

// One image's tiles, P x P outputs each (P = tile): th rows of tw. The GEMMs' columns hold them
// row by row, tile (ty, tx) at column ty * tw + tx. The phase planes the input transforms read
// have rows of L = tw + 1, so that every tile's inputs lie at the same offsets {0, 1, L, L + 1}
// from its own corner: a transform is one vector loop over a row of tiles.
struct Tiles {
  int h, w, tile, th, tw;
  Tiles(int h_, int w_, int tile_) : h(h_), w(w_), tile(tile_), th((h_ + tile_ - 1) / tile_), tw((w_ + tile_ - 1) / tile_) {}
  int64_t wide() const { return tw + 1; }
  int64_t columns() const { return int64_t{th} * tw; }
};

// out[b][m] = q[4 m + b] for m < n: four phases of a row, and merge_phases_4 the inverse. With
// AVX2, eight groups of four at a time: a 4x4 transpose in each 128-bit lane, then the lanes'
// halves put in order.
void split_phases_4(float* const out[4], const float* q, int64_t n) {
  int64_t m = 0;
#if BMC_ISA_AVX2
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (; m + 8 <= n; m += 8) {
    const __m256 a0 = _mm256_loadu_ps(q + 4 * m), a1 = _mm256_loadu_ps(q + 4 * m + 8);
    const __m256 a2 = _mm256_loadu_ps(q + 4 * m + 16), a3 = _mm256_loadu_ps(q + 4 * m + 24);
    const __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
    const __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
    const __m256 b[4] = {_mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
                         _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2))};
    for (int i = 0; i < 4; ++i) _mm256_storeu_ps(out[i] + m, _mm256_permutevar8x32_ps(b[i], order));
  }
#endif
  for (; m < n; ++m)
    for (int i = 0; i < 4; ++i) out[i][m] = q[4 * m + i];
}

void merge_phases_4(float* q, const float* const in[4], int64_t n) {
  int64_t m = 0;
#if BMC_ISA_AVX2
  const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  for (; m + 8 <= n; m += 8) {
    __m256 c[4];
    for (int i = 0; i < 4; ++i) c[i] = _mm256_permutevar8x32_ps(_mm256_loadu_ps(in[i] + m), order);
    const __m256 t0 = _mm256_unpacklo_ps(c[0], c[1]), t1 = _mm256_unpackhi_ps(c[0], c[1]);
    const __m256 t2 = _mm256_unpacklo_ps(c[2], c[3]), t3 = _mm256_unpackhi_ps(c[2], c[3]);
    _mm256_storeu_ps(q + 4 * m, _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)));
    _mm256_storeu_ps(q + 4 * m + 8, _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)));
    _mm256_storeu_ps(q + 4 * m + 16, _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)));
    _mm256_storeu_ps(q + 4 * m + 24, _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)));
  }
#endif
  for (; m < n; ++m)
    for (int i = 0; i < 4; ++i) q[4 * m + i] = in[i][m];
}

// The P x P phase planes of one input channel, (th + 1) x L each plus a vector of spare:
//   plane[P a + b][u * L + m] = x[P u + a - 1][P m + b - 1]   (0 outside the image),
// i.e. the padded image's rows and columns split by their remainder mod P. Tile rows [ty0, ty1)
// read plane rows [ty0, ty1]; only those are written.
struct PhasePlanes {
  std::vector<float> data;
  int64_t size = 0;  // of one plane
  void prepare(const Tiles& t) {
    size = (t.th + 1) * t.wide() + 8;
    data.resize(static_cast<size_t>(t.tile * t.tile * size));
  }
  float* plane(int i) { return data.data() + i * size; }
  void fill(const float* x, const Tiles& t, int ty0, int ty1) {
    const int64_t l = t.wide();
    const int p = t.tile;
    const int r0 = std::max(0, p * ty0 - 1), r1 = std::min(t.h, p * ty1 + 1);
    if (p == 4) {
      // Splitting x's row r four ways from its start: phase c of the row is plane c + 1, from
      // column 0, and phase 3 is plane 0, from column 1 (padded column 4m is x column 4m - 1).
      for (int i = 0; i < 4 * (ty1 - ty0 + 1); ++i) {
        const int u = ty0 + i / 4, a = i % 4, r = 4 * u + a - 1;
        float* const out[4] = {plane(4 * a) + u * l, plane(4 * a + 1) + u * l, plane(4 * a + 2) + u * l,
                               plane(4 * a + 3) + u * l};
        if (r < r0 || r >= r1) {
          for (float* o : out) std::memset(o, 0, sizeof(float) * l);
          continue;
        }
        const float* row = x + int64_t{r} * t.w;
        const int64_t groups = t.w / 4;
        float* const shifted[4] = {out[1], out[2], out[3], out[0] + 1};
        split_phases_4(shifted, row, groups);
        out[0][0] = 0.0f;
        for (int b = 0; b < 4; ++b)
          for (int64_t m = b == 0 ? groups + 1 : groups; m < l; ++m) {
            const int64_t column = 4 * m + b - 1;
            out[b][m] = column < t.w ? row[column] : 0.0f;
          }
      }
      return;
    }
    for (int i = 0; i < p * p; ++i) std::memset(plane(i) + ty0 * l, 0, sizeof(float) * (ty1 - ty0 + 1) * l);
    for (int r = r0; r < r1; ++r) {
      const int a = (r + 1) & 1, u = (r + 1) >> 1;
      // Padded column 2m is x column 2m - 1, padded column 2m + 1 is x column 2m.
      float* even = plane(2 * a) + u * l;
      float* odd = plane(2 * a + 1) + u * l;
      split_pairs(odd, even + 1, x + int64_t{r} * t.w, t.w);
    }
  }
};

// Calls f(n) with n a compile-time constant for the row lengths of CIFAR ResNets' layers (8 tiles
// of 2x2 outputs at 16x16 and of 4x4 at 32x32, 4 of 2x2 at 8x8), else as it is: a loop over one
// row of tiles then is a single vector instruction per value, without the checks and the
// remainder loop a runtime trip count needs.
template <class F>
void with_row_length(int64_t n, F f) {
  if (n == 8)
    f(std::integral_constant<int64_t, 8>{});
  else if (n == 4)
    f(std::integral_constant<int64_t, 4>{});
  else
    f(n);
}

// F(2x2, 3x3). V = B^T d B for tile rows [ty0, ty1) of one channel into v (position xi at
// v + xi * stride, the band's columns from 0). B^T's rows are d0 - d2, d1 + d2, d2 - d1, d1 - d3,
// applied to the columns of each input row, then to the rows.
void input_transform_2(float* v, int64_t stride, PhasePlanes& p, const Tiles& t, int ty0, int ty1) {
  const int64_t l = t.wide();
  for (int ty = ty0; ty < ty1; ++ty) {
    const float* __restrict p00 = p.plane(0) + ty * l;
    const float* __restrict p01 = p.plane(1) + ty * l;
    const float* __restrict p10 = p.plane(2) + ty * l;
    const float* __restrict p11 = p.plane(3) + ty * l;
    float* __restrict out = v + (ty - ty0) * int64_t{t.tw};
    with_row_length(t.tw, [&](auto n) {
#pragma omp simd
    for (int64_t u = 0; u < n; ++u) {
      // Input row rr of the tile: columns d0..d3 = even[at], odd[at], even[at + 1], odd[at + 1]
      // of the plane pair of its parity, at = u one plane row further down for rr >= 2; then d B.
      float c[4][4];
      const int64_t down = u + l;
      c[0][0] = p00[u] - p00[u + 1];
      c[0][1] = p01[u] + p00[u + 1];
      c[0][2] = p00[u + 1] - p01[u];
      c[0][3] = p01[u] - p01[u + 1];
      c[1][0] = p10[u] - p10[u + 1];
      c[1][1] = p11[u] + p10[u + 1];
      c[1][2] = p10[u + 1] - p11[u];
      c[1][3] = p11[u] - p11[u + 1];
      c[2][0] = p00[down] - p00[down + 1];
      c[2][1] = p01[down] + p00[down + 1];
      c[2][2] = p00[down + 1] - p01[down];
      c[2][3] = p01[down] - p01[down + 1];
      c[3][0] = p10[down] - p10[down + 1];
      c[3][1] = p11[down] + p10[down + 1];
      c[3][2] = p10[down + 1] - p11[down];
      c[3][3] = p11[down] - p11[down + 1];
      for (int j = 0; j < 4; ++j) {
        out[(0 * 4 + j) * stride + u] = c[0][j] - c[2][j];
        out[(1 * 4 + j) * stride + u] = c[1][j] + c[2][j];
        out[(2 * 4 + j) * stride + u] = c[2][j] - c[1][j];
        out[(3 * 4 + j) * stride + u] = c[1][j] - c[3][j];
      }
    }
    });
  }
}

// Y = A^T M A for columns [u0, u1) of one output channel (m: position xi at m + xi * stride),
// A^T = [1 1 1 0; 0 1 -1 -1], into the four phase planes y[2a + b][u] = output (2 ty + a, 2 tx + b).
void output_transform_2(float* const* y, const float* m, int64_t stride, int64_t u0, int64_t u1) {
  const float* __restrict in = m - u0;
  float* __restrict y00 = y[0] - u0;
  float* __restrict y01 = y[1] - u0;
  float* __restrict y10 = y[2] - u0;
  float* __restrict y11 = y[3] - u0;
#pragma omp simd
  for (int64_t u = u0; u < u1; ++u) {
    float s[2][4];
    for (int j = 0; j < 4; ++j) {
      const float m0 = in[(0 * 4 + j) * stride + u], m1 = in[(1 * 4 + j) * stride + u];
      const float m2 = in[(2 * 4 + j) * stride + u], m3 = in[(3 * 4 + j) * stride + u];
      s[0][j] = m0 + m1 + m2;
      s[1][j] = m1 - m2 - m3;
    }
    y00[u] = s[0][0] + s[0][1] + s[0][2];
    y01[u] = s[0][1] - s[0][2] - s[0][3];
    y10[u] = s[1][0] + s[1][1] + s[1][2];
    y11[u] = s[1][1] - s[1][2] - s[1][3];
  }
}

// F(4x4, 3x3) with the points 0, +-1, +-2 and infinity. Each transform is two passes of a
// six-point transform over rows of n values (tile rows, then tile columns) through a buffer that
// stays in L1, so that every pass is a flat vector loop over the tiles.
//
// B^T applied to d0..d5 (a row i of the output at out + i * out_stride):
//   4 d0 - 5 d2 + d4,  (d3 + d4) - 4 (d1 + d2),  (d4 - d3) + 4 (d1 - d2),
//   (d4 - d2) + 2 (d3 - d1),  (d4 - d2) - 2 (d3 - d1),  4 d1 - 5 d3 + d5.
// The coefficients are small integers, exact in binary; the grouping is fixed.
// Calls point(u, v0, ..., v5) with the u-th value of six rows, for u < n, as one vector loop.
template <class N, class Point>
void over_six_rows(const float* const rows[6], N n, Point point) {
  const float* __restrict r0 = rows[0];
  const float* __restrict r1 = rows[1];
  const float* __restrict r2 = rows[2];
  const float* __restrict r3 = rows[3];
  const float* __restrict r4 = rows[4];
  const float* __restrict r5 = rows[5];
#pragma omp simd
  for (int64_t u = 0; u < n; ++u) point(u, r0[u], r1[u], r2[u], r3[u], r4[u], r5[u]);
}

template <class N>
void transform_bt6(float* out, int64_t out_stride, const float* const d[6], N n) {
  float* __restrict o = out;
  over_six_rows(d, n, [=](int64_t u, float d0, float d1, float d2, float d3, float d4, float d5) {
    const float s12 = d1 + d2, s34 = d3 + d4, e12 = d1 - d2, e43 = d4 - d3, f42 = d4 - d2, f31 = d3 - d1;
    o[u] = 4.0f * d0 - 5.0f * d2 + d4;
    o[out_stride + u] = s34 - 4.0f * s12;
    o[2 * out_stride + u] = e43 + 4.0f * e12;
    o[3 * out_stride + u] = f42 + 2.0f * f31;
    o[4 * out_stride + u] = f42 - 2.0f * f31;
    o[5 * out_stride + u] = 4.0f * d1 - 5.0f * d3 + d5;
  });
}

// A^T applied to m0..m5: m0 + (m1 + m2) + (m3 + m4),  (m1 - m2) + 2 (m3 - m4),
// (m1 + m2) + 4 (m3 + m4),  (m1 - m2) + 8 (m3 - m4) + m5.
void transform_at6(float* out, int64_t out_stride, const float* const m[6], int64_t n) {
  float* __restrict o = out;
  over_six_rows(m, n, [=](int64_t u, float m0, float m1, float m2, float m3, float m4, float m5) {
    const float a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
    o[u] = m0 + a + c;
    o[out_stride + u] = b + 2.0f * d;
    o[2 * out_stride + u] = a + 4.0f * c;
    o[3 * out_stride + u] = b + 8.0f * d + m5;
  });
}

// The passes' buffer: 36 rows of a call's columns.
std::vector<float>& transform_buffer(int64_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(36 * n)) buffer.resize(static_cast<size_t>(36 * n));
  return buffer;
}

// V = B^T d B for tile rows [ty0, ty1): tile input (r, s) is phase plane 4 (r % 4) + s % 4 at
// tx + (ty + r / 4) L + s / 4. The first pass reads the planes row of tiles by row of tiles, the
// second runs over the band's columns at once.
void input_transform_4(float* v, int64_t stride, PhasePlanes& p, const Tiles& t, int ty0, int ty1) {
  const int64_t l = t.wide(), n = (ty1 - ty0) * int64_t{t.tw};
  float* rows = transform_buffer(n).data();  // row r of the tile, transformed: (r, j) at (6 r + j) n
  for (int ty = ty0; ty < ty1; ++ty)
    for (int r = 0; r < 6; ++r) {
      const int64_t at = (ty + r / 4) * l;
      const float* d[6];
      for (int s = 0; s < 6; ++s) d[s] = p.plane(4 * (r % 4) + s % 4) + at + s / 4;
      with_row_length(t.tw, [&](auto tw) { transform_bt6(rows + 6 * r * n + (ty - ty0) * tw, n, d, tw); });
    }
  for (int j = 0; j < 6; ++j) {
    const float* d[6];
    for (int r = 0; r < 6; ++r) d[r] = rows + (6 * r + j) * n;
    transform_bt6(v + j * stride, 6 * stride, d, n);  // position (i, j) at (6 i + j) * stride
  }
}

// Y = A^T M A for columns [0, n) into the 16 phase planes y[4a + b] (output (4 ty + a,
// 4 tx + b)), `plane_stride` apart.
void output_transform_4(float* y, int64_t plane_stride, const float* m, int64_t stride, int64_t n) {
  float* cols = transform_buffer(n).data();  // (i, j) = row i of A^T M at (6 i + j) n
  for (int j = 0; j < 6; ++j) {
    const float* in[6];
    for (int r = 0; r < 6; ++r) in[r] = m + (6 * r + j) * stride;
    transform_at6(cols + j * n, 6 * n, in, n);
  }
  for (int i = 0; i < 4; ++i) {
    const float* in[6];
    for (int j = 0; j < 6; ++j) in[j] = cols + (6 * i + j) * n;
    transform_at6(y + 4 * i * plane_stride, plane_stride, in, n);
  }
}

// Output rows of tile rows [ty0, ty1) from the phase planes (columns from ty0 * tw).
void interleave_rows(float* y, const float* const* planes, const Tiles& t, int ty0, int ty1) {
  const int64_t tw = t.tw;
  if (t.tile == 4) {
    thread_local std::vector<float> row;
    row.resize(static_cast<size_t>(4 * tw));
    for (int ty = ty0; ty < ty1; ++ty)
      for (int a = 0; a < 4 && 4 * ty + a < t.h; ++a) {
        const int64_t at = (ty - ty0) * tw;
        const float* const in[4] = {planes[4 * a] + at, planes[4 * a + 1] + at, planes[4 * a + 2] + at,
                                    planes[4 * a + 3] + at};
        float* out = y + int64_t{4 * ty + a} * t.w;
        if (4 * t.tw == t.w) {
          merge_phases_4(out, in, t.tw);
        } else {
          merge_phases_4(row.data(), in, t.tw);
          std::memcpy(out, row.data(), sizeof(float) * t.w);
        }
      }
    return;
  }
  for (int ty = ty0; ty < ty1; ++ty)
    for (int a = 0; a < 2 && 2 * ty + a < t.h; ++a)
      merge_pairs(y + int64_t{2 * ty + a} * t.w, planes[2 * a] + (ty - ty0) * tw, planes[2 * a + 1] + (ty - ty0) * tw,
                  t.w);
}

}  // namespace

WinogradFilter winograd_filter(const float* w, int k, int c, int tile) {
  BMC_CHECK(tile == 2 || tile == 4, "winograd_filter: tiles of 2x2 or 4x4 outputs, not ", tile);
  // U = G g G^T in double, rounded once, with G (tile + 2 rows) for F(2x2, 3x3):
  //   [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
  // and for F(4x4, 3x3):
  //   [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
  static const double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static const double g4[6][3] = {{0.25, 0, 0},          {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
  const int n = tile + 2, xis = positions(tile);
  auto gm = [&](int i, int j) { return tile == 2 ? g2[i][j] : g4[i][j]; };
  std::vector<float> u(static_cast<size_t>(xis) * k * c);  // (positions, K, C)
  // Per output channel: its filters' taps laid out (9, C), then G g one row of G at a time and
  // U = (G g) G^T, each a vector loop over the input channels; in parallel, since the
  // convolution's threads would otherwise wait here (3-4% of a 64-channel layer).
#pragma omp parallel if (int64_t{k} * c >= 1024)
  {
    std::vector<double> taps(static_cast<size_t>(9 * c)), gg(static_cast<size_t>(3 * c));
#pragma omp for schedule(static)
    for (int o = 0; o < k; ++o) {
      for (int i = 0; i < c; ++i)
        for (int t = 0; t < 9; ++t) taps[static_cast<size_t>(t * c + i)] = w[(int64_t{o} * c + i) * 9 + t];
      for (int r = 0; r < n; ++r) {
        const double a0 = gm(r, 0), a1 = gm(r, 1), a2 = gm(r, 2);
        for (int s = 0; s < 3; ++s) {
          const double* __restrict t0 = taps.data() + s * c;
          const double* __restrict t1 = t0 + 3 * c;
          const double* __restrict t2 = t0 + 6 * c;
          double* __restrict row = gg.data() + s * c;
#pragma omp simd
          for (int i = 0; i < c; ++i) row[i] = a0 * t0[i] + a1 * t1[i] + a2 * t2[i];
        }
        for (int s = 0; s < n; ++s) {
          const double b0 = gm(s, 0), b1 = gm(s, 1), b2 = gm(s, 2);
          const double* __restrict g0 = gg.data();
          const double* __restrict g1 = g0 + c;
          const double* __restrict g2 = g0 + 2 * c;
          float* __restrict out = u.data() + (static_cast<size_t>(r * n + s) * k + o) * c;
#pragma omp simd
          for (int i = 0; i < c; ++i) out[i] = static_cast<float>(g0[i] * b0 + g1[i] * b1 + g2[i] * b2);
        }
      }
    }
  }
  WinogradFilter f;
  f.k = k;
  f.c = c;
  f.tile = tile;
  const int64_t panel_size = gemm_panels_size(k, c);
  f.panels.resize(static_cast<size_t>(xis * panel_size));
#pragma omp parallel for schedule(static) if (int64_t{k} * c >= 1024)
  for (int xi = 0; xi < xis; ++xi)
    pack_gemm_panels(f.panels.data() + xi * panel_size, u.data() + static_cast<size_t>(xi) * k * c, k, c, c, 1);
  return f;
}

int winograd_tile(const ConvGeometry& g, int k) {
  if (!(g.r == 3 && g.s == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 && g.pad_w == 1)) return 0;
  const int channels = std::min(g.c, k);
  if (channels >= 16 && g.w >= 32 && columns_within_budget(g.c, k, 4) >= 32) return 4;
  if (channels >= 32 && columns_within_budget(g.c, k, 2) >= 32) return 2;
  return 0;
}

int winograd_images_per_call(int c, int k, int h, int w, int tile) {
  const Tiles t(h, w, tile);
  return static_cast<int>(std::max<int64_t>(1, columns_within_budget(c, k, tile) / t.columns()));
}

void winograd_convolve(float* y, const float* x, int images, const WinogradFilter& f, int h, int w) {
  const int c = f.c, k = f.k, xis = positions(f.tile), p = f.tile;
  const Tiles t(h, w, f.tile);
  const int64_t plane = int64_t{h} * w, tw = t.tw, panel_size = gemm_panels_size(k, c);
  // A batch is several whole images, or one band of tile rows of one image.
  const int64_t budget = columns_within_budget(c, k, f.tile);
  // Bands of equal height, as few as the budget allows.
  const int most_rows = static_cast<int>(std::clamp<int64_t>(budget / tw, 1, t.th));
  const int bands = (t.th + most_rows - 1) / most_rows, band = (t.th + bands - 1) / bands;
  const int per_batch = band < t.th ? 1 : static_cast<int>(std::clamp<int64_t>(budget / t.columns(), 1, images));
  const int64_t max_columns = band < t.th ? band * tw : per_batch * t.columns();
  thread_local std::vector<float> v, m, out;
  thread_local PhasePlanes planes;
  const int64_t v_stride = position_stride(c * max_columns), m_stride = position_stride(k * max_columns);
  v.resize(static_cast<size_t>(xis * v_stride));
  m.resize(static_cast<size_t>(xis * m_stride));
  out.resize(static_cast<size_t>(p * p * band * tw));
  planes.prepare(t);
  float* out_planes[16];
  for (int i = 0; i < p * p; ++i) out_planes[i] = out.data() + i * band * tw;
  for (int n0 = 0; n0 < images; n0 += per_batch) {
    const int batch_images = std::min(per_batch, images - n0);
    for (int ty0 = 0; ty0 < t.th; ty0 += band) {
      const int ty1 = std::min(t.th, ty0 + band);
      const int64_t columns_per_image = (ty1 - ty0) * tw, columns = batch_images * columns_per_image;
      // V_xi (C, columns) with row stride `columns`.
      for (int i = 0; i < batch_images; ++i)
        for (int ci = 0; ci < c; ++ci) {
          planes.fill(x + ((n0 + i) * int64_t{c} + ci) * plane, t, ty0, ty1);
          float* vi = v.data() + ci * columns + i * columns_per_image;
          if (p == 2)
            input_transform_2(vi, v_stride, planes, t, ty0, ty1);
          else
            input_transform_4(vi, v_stride, planes, t, ty0, ty1);
        }
      for (int xi = 0; xi < xis; ++xi)
        small_gemm(k, columns, c, f.panels.data() + xi * panel_size, v.data() + xi * v_stride, columns,
                   m.data() + xi * m_stride, columns, false);
      for (int i = 0; i < batch_images; ++i)
        for (int o = 0; o < k; ++o) {
          const float* mo = m.data() + o * columns + i * columns_per_image;
          if (p == 2)
            output_transform_2(out_planes, mo, m_stride, 0, columns_per_image);
          else
            output_transform_4(out.data(), band * tw, mo, m_stride, columns_per_image);
          interleave_rows(y + ((n0 + i) * int64_t{k} + o) * plane, out_planes, t, ty0, ty1);
        }
    }
  }
}

bool winograd_filter_gradient_fits(const ConvGeometry& g, int k) {
  return g.r == 3 && g.s == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 && g.pad_w == 1 &&
         std::min(g.c, k) >= 16 && columns_within_budget(g.c, k, 2) >= 32;
}

int64_t winograd_filter_gradient_size(int c, int k) { return int64_t{positions(2)} * c * k; }

namespace {

// A K-vector of zeros, for the inputs and outputs past the image.
const float* zeros(int n) {
  thread_local std::vector<float> z;
  if (z.size() < static_cast<size_t>(n)) z.assign(static_cast<size_t>(n), 0.0f);
  return z.data();
}

// V = B^T d B for every tile of one image, vectorized over the channels, from its padded
// channels-last image xpad (H + 2, W + 2, C): position xi's rows (tile, C) at v + xi * stride,
// this image's tiles from row 0 (the GEMM's B, row-major).
void input_transform_channels_last(float* v, int64_t stride, const float* xpad, const Tiles& t, int c) {
  const int hp = t.h + 2, wp = t.w + 2;
  const float* none = zeros(c);
  for (int ty = 0; ty < t.th; ++ty)
    for (int tx = 0; tx < t.tw; ++tx) {
      const float* d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int q = 0; q < 4; ++q) {
          const int y = 2 * ty + r, x = 2 * tx + q;
          d[r][q] = y < hp && x < wp ? xpad + (int64_t{y} * wp + x) * c : none;
        }
      float* __restrict out = v + (int64_t{ty} * t.tw + tx) * c;
#pragma omp simd
      for (int ch = 0; ch < c; ++ch) {
        // Each row times B (columns d0 - d2, d1 + d2, d2 - d1, d1 - d3), then B^T over the rows.
        float e[4][4];
        for (int r = 0; r < 4; ++r) {
          const float d0 = d[r][0][ch], d1 = d[r][1][ch], d2 = d[r][2][ch], d3 = d[r][3][ch];
          e[r][0] = d0 - d2;
          e[r][1] = d1 + d2;
          e[r][2] = d2 - d1;
          e[r][3] = d1 - d3;
        }
        for (int j = 0; j < 4; ++j) {
          out[(0 * 4 + j) * stride + ch] = e[0][j] - e[2][j];
          out[(1 * 4 + j) * stride + ch] = e[1][j] + e[2][j];
          out[(2 * 4 + j) * stride + ch] = e[2][j] - e[1][j];
          out[(3 * 4 + j) * stride + ch] = e[1][j] - e[3][j];
        }
      }
    }
}

// M = A dy A^T for every tile of one image, from its channels-last dy (H, W, K), written as the
// GEMM's A in panels of 8 output channels (ops/small_gemm.h): position xi's element (o, tile) at
// m + xi * stride + ((o / 8) columns + first + tile) 8 + o % 8, for a batch of `columns` tiles
// of which this image's start at `first`; channels past K are 0. A = [1 0; 1 1; 1 -1; 0 -1]
// lifts a row (u, v) to (u, u + v, u - v, -v); outputs past the image count as 0.
void output_gradient_transform_2(float* m, int64_t stride, int64_t columns, int64_t first, const float* dy,
                                 const Tiles& t, int k) {
  const int panels = (k + kGemmPanelRows - 1) / kGemmPanelRows, padded_k = panels * kGemmPanelRows;
  const float* none = zeros(padded_k);
  thread_local std::vector<float> last;  // a tail panel's inputs, widened to 8 channels
  last.assign(static_cast<size_t>(4 * kGemmPanelRows), 0.0f);
  auto at = [&](int y, int x) { return y < t.h && x < t.w ? dy + (int64_t{y} * t.w + x) * k : none; };
  for (int ty = 0; ty < t.th; ++ty)
    for (int tx = 0; tx < t.tw; ++tx) {
      const float* corner[4] = {at(2 * ty, 2 * tx), at(2 * ty, 2 * tx + 1), at(2 * ty + 1, 2 * tx),
                                at(2 * ty + 1, 2 * tx + 1)};
      const int64_t tile = first + int64_t{ty} * t.tw + tx;
      for (int p = 0; p < panels; ++p) {
        const int o0 = p * kGemmPanelRows;
        const float* in[4];
        for (int q = 0; q < 4; ++q) in[q] = corner[q] + o0;
        if (o0 + kGemmPanelRows > k) {
          for (int q = 0; q < 4; ++q) {
            for (int i = 0; i < kGemmPanelRows; ++i) last[q * kGemmPanelRows + i] = o0 + i < k ? in[q][i] : 0.0f;
            in[q] = last.data() + q * kGemmPanelRows;
          }
        }
        const float* __restrict a = in[0];
        const float* __restrict b = in[1];
        const float* __restrict c = in[2];
        const float* __restrict d = in[3];
        float* __restrict out = m + (p * columns + tile) * kGemmPanelRows;
#pragma omp simd
        for (int i = 0; i < kGemmPanelRows; ++i) {
          // Rows of A dy: (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); then each row times A^T.
          const float rows[4][2] = {{a[i], b[i]}, {a[i] + c[i], b[i] + d[i]}, {a[i] - c[i], b[i] - d[i]}, {-c[i], -d[i]}};
          for (int r = 0; r < 4; ++r) {
            out[(4 * r + 0) * stride + i] = rows[r][0];
            out[(4 * r + 1) * stride + i] = rows[r][0] + rows[r][1];
            out[(4 * r + 2) * stride + i] = rows[r][0] - rows[r][1];
            out[(4 * r + 3) * stride + i] = -rows[r][1];
          }
        }
      }
    }
}

}  // namespace

void winograd_filter_gradient_accumulate(float* du, const float* x, const float* dy, int images, int c, int k, int h,
                                         int w) {
  const Tiles t(h, w, 2);
  const int xis = positions(2);
  const int64_t plane = int64_t{h} * w, per_image = t.columns();
  const int per_batch = static_cast<int>(std::clamp<int64_t>(columns_within_budget(c, k, 2) / per_image, 1, images));
  const int64_t max_columns = per_batch * per_image;
  const int64_t v_stride = position_stride(max_columns * c), m_stride = position_stride(gemm_panels_size(k, max_columns));
  thread_local std::vector<float> v, m;
  v.resize(static_cast<size_t>(xis * v_stride));
  m.resize(static_cast<size_t>(xis * m_stride));
  const ConvGeometry x_geometry{c, h, w, 3, 3, h, w, 1, 1, 1, 1}, dy_geometry{k, h, w, 1, 1, h, w, 1, 1, 0, 0};
  for (int n0 = 0; n0 < images; n0 += per_batch) {
    const int batch_images = std::min(per_batch, images - n0);
    const int64_t columns = batch_images * per_image;
    // V_xi (columns, C) row-major and M_xi (K, columns) in panels.
    for (int i = 0; i < batch_images; ++i) {
      input_transform_channels_last(v.data() + i * per_image * c, v_stride,
                                    padded_channels_last(x + (n0 + i) * int64_t{c} * plane, x_geometry), t, c);
      output_gradient_transform_2(m.data(), m_stride, columns, i * per_image,
                                  padded_channels_last(dy + (n0 + i) * int64_t{k} * plane, dy_geometry), t, k);
    }
    for (int xi = 0; xi < xis; ++xi)
      small_gemm(k, c, columns, m.data() + xi * m_stride, v.data() + xi * v_stride, c, du + int64_t{xi} * k * c, c,
                 true);
  }
}

void winograd_filter_gradient_finish(float* dw, const float* du, int c, int k) {
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]: dw[r][s] = sum over i, j of G[i][r] dU[i][j] G[j][s].
  static const float g[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  const int64_t position = int64_t{c} * k;
#pragma omp parallel for schedule(static) if (position >= 1024)
  for (int o = 0; o < k; ++o)
    for (int ci = 0; ci < c; ++ci) {
      float u[4][4];
      for (int xi = 0; xi < 16; ++xi) u[xi / 4][xi % 4] = du[xi * position + int64_t{o} * c + ci];
      float ug[4][3];  // dU G
      for (int i = 0; i < 4; ++i)
        for (int s = 0; s < 3; ++s) ug[i][s] = u[i][0] * g[0][s] + u[i][1] * g[1][s] + u[i][2] * g[2][s] + u[i][3] * g[3][s];
      float* out = dw + (int64_t{o} * c + ci) * 9;
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 3; ++s)
          out[r * 3 + s] += g[0][r] * ug[0][s] + g[1][r] * ug[1][s] + g[2][r] * ug[2][s] + g[3][r] * ug[3][s];
    }
}

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
