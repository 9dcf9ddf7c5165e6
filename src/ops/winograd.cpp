#include "ops/winograd.h"

#include <algorithm>
#include <cstring>

#include "ops/small_gemm.h"

namespace bmc::ops {

namespace {

constexpr int kTile = 16;  // positions of the 4x4 transformed tile

// The transformed input and the products of one GEMM batch stay within this many bytes together
// (an L2 of these machines), which bounds the columns one batch covers.
constexpr int64_t kBufferBytes = 512 * 1024;

int64_t columns_within_budget(int c, int k) {
  return kBufferBytes / (int64_t{kTile} * (c + k) * int64_t{sizeof(float)});
}

// The 16 positions' matrices lie this far apart: their size plus one cache line, so that their
// rows, read and written together by the transforms, do not all map to the same L1 sets when the
// size is a multiple of 4 KiB (it is for every ResNet layer).
int64_t position_stride(int64_t size) { return (size + 15) / 16 * 16 + 16; }

// One image's tiles in "wide" order: tile (ty, tx) is column ty * L + tx with L = tw + 1, so that
// every tile's inputs lie at the same offsets {0, 1, L, L + 1} in four parity planes and each
// transform is one flat loop. Column tx = tw of each row is a spare: it is computed and dropped.
struct Tiles {
  int h, w, th, tw;
  int64_t wide() const { return tw + 1; }
  int64_t columns() const { return int64_t{th} * wide(); }
};

// The four parity planes of one input channel, (th + 1) x L each plus a vector of spare:
//   plane[2a + b][u * L + m] = x[2u + a - 1][2m + b - 1]   (0 outside the image),
// i.e. the padded image's rows and columns split by parity. Tile rows [ty0, ty1) read plane rows
// [ty0, ty1]; only those are written.
struct ParityPlanes {
  std::vector<float> data;
  int64_t size = 0;  // of one plane
  void prepare(const Tiles& t) {
    size = (t.th + 1) * t.wide() + 8;
    data.resize(static_cast<size_t>(4 * size));
  }
  float* plane(int i) { return data.data() + i * size; }
  void fill(const float* x, const Tiles& t, int ty0, int ty1) {
    const int64_t l = t.wide();
    for (int i = 0; i < 4; ++i) std::memset(plane(i) + ty0 * l, 0, sizeof(float) * (ty1 - ty0 + 1) * l);
    const int r0 = std::max(0, 2 * ty0 - 1), r1 = std::min(t.h, 2 * ty1 + 1);
    for (int r = r0; r < r1; ++r) {
      const int a = (r + 1) & 1, u = (r + 1) >> 1;
      const float* __restrict row = x + int64_t{r} * t.w;
      float* __restrict even = plane(2 * a) + u * l;     // padded column 2m: x column 2m - 1
      float* __restrict odd = plane(2 * a + 1) + u * l;  // padded column 2m + 1: x column 2m
#pragma omp simd
      for (int m = 1; m <= t.w / 2; ++m) even[m] = row[2 * m - 1];
#pragma omp simd
      for (int m = 0; m <= (t.w - 1) / 2; ++m) odd[m] = row[2 * m];
    }
  }
};

// V = B^T d B for wide columns [u0, u1) of one channel into v (position xi at v + xi * stride).
// B^T's rows are d0 - d2, d1 + d2, d2 - d1, d1 - d3, applied to the columns of each input row,
// then to the rows.
void input_transform(float* v, int64_t stride, ParityPlanes& p, int64_t l, int64_t u0, int64_t u1) {
  const float* __restrict p00 = p.plane(0);
  const float* __restrict p01 = p.plane(1);
  const float* __restrict p10 = p.plane(2);
  const float* __restrict p11 = p.plane(3);
  float* __restrict out = v - u0;
#pragma omp simd
  for (int64_t u = u0; u < u1; ++u) {
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
}

// Y = A^T M A for wide columns [u0, u1) of one output channel (m: position xi at m + xi * stride),
// A^T = [1 1 1 0; 0 1 -1 -1], into four parity planes y[2a + b][u] = output (2 ty + a, 2 tx + b).
void output_transform(float* const* y, const float* m, int64_t stride, int64_t u0, int64_t u1) {
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

// Output rows of tile rows [ty0, ty1) from the parity planes (wide columns from ty0 * L).
void interleave_rows(float* y, const float* const* planes, const Tiles& t, int ty0, int ty1) {
  const int64_t l = t.wide();
  const int pairs = t.w / 2;
  for (int ty = ty0; ty < ty1; ++ty)
    for (int a = 0; a < 2 && 2 * ty + a < t.h; ++a) {
      float* __restrict out = y + int64_t{2 * ty + a} * t.w;
      const float* __restrict even = planes[2 * a] + (ty - ty0) * l;
      const float* __restrict odd = planes[2 * a + 1] + (ty - ty0) * l;
#pragma omp simd
      for (int tx = 0; tx < pairs; ++tx) {
        out[2 * tx] = even[tx];
        out[2 * tx + 1] = odd[tx];
      }
      if (t.w % 2) out[2 * pairs] = even[pairs];
    }
}

}  // namespace

WinogradFilter winograd_filter(const float* w, int k, int c) {
  // U = G g G^T in double, rounded once: G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
  std::vector<float> u(static_cast<size_t>(kTile) * k * c);  // (16, K, C)
  for (int o = 0; o < k; ++o)
    for (int i = 0; i < c; ++i) {
      const float* g = w + (int64_t{o} * c + i) * 9;
      double gg[4][3];
      for (int s = 0; s < 3; ++s) {
        gg[0][s] = g[s];
        gg[1][s] = 0.5 * (double{g[s]} + g[3 + s] + g[6 + s]);
        gg[2][s] = 0.5 * (double{g[s]} - g[3 + s] + g[6 + s]);
        gg[3][s] = g[6 + s];
      }
      for (int r = 0; r < 4; ++r) {
        const double t[4] = {gg[r][0], 0.5 * (gg[r][0] + gg[r][1] + gg[r][2]), 0.5 * (gg[r][0] - gg[r][1] + gg[r][2]),
                             gg[r][2]};
        for (int s = 0; s < 4; ++s) u[(static_cast<size_t>(r * 4 + s) * k + o) * c + i] = static_cast<float>(t[s]);
      }
    }
  WinogradFilter f;
  f.k = k;
  f.c = c;
  const int64_t panel_size = gemm_panels_size(k, c);
  f.panels.resize(static_cast<size_t>(kTile * panel_size));
  for (int xi = 0; xi < kTile; ++xi)
    pack_gemm_panels(f.panels.data() + xi * panel_size, u.data() + static_cast<size_t>(xi) * k * c, k, c, c, 1);
  return f;
}

bool winograd_suits(const ConvGeometry& g, int k) {
  return g.r == 3 && g.s == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 && g.pad_w == 1 &&
         std::min(g.c, k) >= 32 && columns_within_budget(g.c, k) >= 32;
}

int winograd_images_per_call(int c, int k, int h, int w) {
  const Tiles t{h, w, (h + 1) / 2, (w + 1) / 2};
  return static_cast<int>(std::max<int64_t>(1, columns_within_budget(c, k) / t.columns()));
}

void winograd_convolve(float* y, const float* x, int images, const WinogradFilter& f, int h, int w) {
  const int c = f.c, k = f.k;
  const Tiles t{h, w, (h + 1) / 2, (w + 1) / 2};
  const int64_t plane = int64_t{h} * w, l = t.wide(), panel_size = gemm_panels_size(k, c);
  // A batch is several whole images, or one band of tile rows of one image.
  const int64_t budget = columns_within_budget(c, k);
  // Bands of equal height, as few as the budget allows.
  const int most_rows = static_cast<int>(std::clamp<int64_t>(budget / l, 1, t.th));
  const int bands = (t.th + most_rows - 1) / most_rows, band = (t.th + bands - 1) / bands;
  const int per_batch = band < t.th ? 1 : static_cast<int>(std::clamp<int64_t>(budget / t.columns(), 1, images));
  const int64_t max_columns = band < t.th ? band * l : per_batch * t.columns();
  thread_local std::vector<float> v, m, out;
  thread_local ParityPlanes planes;
  const int64_t v_stride = position_stride(c * max_columns), m_stride = position_stride(k * max_columns);
  v.resize(static_cast<size_t>(kTile * v_stride));
  m.resize(static_cast<size_t>(kTile * m_stride));
  out.resize(static_cast<size_t>(4 * band * l));
  planes.prepare(t);
  float* out_planes[4] = {out.data(), out.data() + band * l, out.data() + 2 * band * l, out.data() + 3 * band * l};
  for (int n0 = 0; n0 < images; n0 += per_batch) {
    const int batch_images = std::min(per_batch, images - n0);
    for (int ty0 = 0; ty0 < t.th; ty0 += band) {
      const int ty1 = std::min(t.th, ty0 + band);
      const int64_t columns_per_image = (ty1 - ty0) * l, columns = batch_images * columns_per_image;
      // V_xi (C, columns) with row stride `columns`.
      for (int i = 0; i < batch_images; ++i)
        for (int ci = 0; ci < c; ++ci) {
          planes.fill(x + ((n0 + i) * int64_t{c} + ci) * plane, t, ty0, ty1);
          input_transform(v.data() + ci * columns + i * columns_per_image, v_stride, planes, l, ty0 * l, ty1 * l);
        }
      for (int xi = 0; xi < kTile; ++xi)
        small_gemm(k, columns, c, f.panels.data() + xi * panel_size, v.data() + xi * v_stride, columns,
                   m.data() + xi * m_stride, columns, false);
      for (int i = 0; i < batch_images; ++i)
        for (int o = 0; o < k; ++o) {
          output_transform(out_planes, m.data() + o * columns + i * columns_per_image, m_stride, 0,
                           columns_per_image);
          interleave_rows(y + ((n0 + i) * int64_t{k} + o) * plane, out_planes, t, ty0, ty1);
        }
    }
  }
}

}  // namespace bmc::ops
