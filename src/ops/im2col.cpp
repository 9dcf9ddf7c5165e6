#include "ops/im2col.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "core/isa_target.h"
#include "ops/pairs.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {
namespace {

// Moves `rows` rows of Q floats between a column matrix (rows of Q contiguous floats) and an image
// (row stride image_stride, column step STEP, the convolution's horizontal stride): im2col
// gathers image -> rows, col2im scatters rows -> image, adding. Q and STEP as constants for the
// image widths of CIFAR and ImageNet ResNets make each row a few vector moves.
template <bool kScatter>
struct RowMove {
  using Col = std::conditional_t<kScatter, const float*, float*>;
  using Image = std::conditional_t<kScatter, float*, const float*>;
  static void one(Col __restrict col, Image __restrict image, int64_t c, int64_t i) {
    if constexpr (kScatter)
      image[i] += col[c];
    else
      col[c] = image[i];
  }
};

template <bool kScatter, int Q, int STEP>
void move_rows(typename RowMove<kScatter>::Col col_rows, typename RowMove<kScatter>::Image image, int rows,
               int64_t image_stride) {
  for (int p = 0; p < rows; ++p)
    for (int q = 0; q < Q; ++q) RowMove<kScatter>::one(col_rows, image, int64_t{p} * Q + q, p * image_stride + q * STEP);
}

template <bool kScatter, int STEP>
bool move_rows_fixed(typename RowMove<kScatter>::Col col_rows, typename RowMove<kScatter>::Image image, int rows,
                     int64_t image_stride, int q_count) {
  switch (q_count) {
    case 7: move_rows<kScatter, 7, STEP>(col_rows, image, rows, image_stride); return true;
    case 8: move_rows<kScatter, 8, STEP>(col_rows, image, rows, image_stride); return true;
    case 14: move_rows<kScatter, 14, STEP>(col_rows, image, rows, image_stride); return true;
    case 16: move_rows<kScatter, 16, STEP>(col_rows, image, rows, image_stride); return true;
    case 28: move_rows<kScatter, 28, STEP>(col_rows, image, rows, image_stride); return true;
    case 32: move_rows<kScatter, 32, STEP>(col_rows, image, rows, image_stride); return true;
    case 56: move_rows<kScatter, 56, STEP>(col_rows, image, rows, image_stride); return true;
    default: return false;
  }
}

template <bool kScatter>
void move_rows(typename RowMove<kScatter>::Col col_rows, typename RowMove<kScatter>::Image image, int rows,
               int64_t image_stride, int q_count, int step) {
  if (step == 1 && move_rows_fixed<kScatter, 1>(col_rows, image, rows, image_stride, q_count)) return;
  if (step == 2 && move_rows_fixed<kScatter, 2>(col_rows, image, rows, image_stride, q_count)) return;
  for (int p = 0; p < rows; ++p)
    for (int q = 0; q < q_count; ++q)
      RowMove<kScatter>::one(col_rows, image, int64_t{p} * q_count + q, p * image_stride + int64_t{q} * step);
}

// Every tap (c, r, s) of the column matrix against the padded image, in that order, for output
// rows [p0, p1): column row `tap` starts at col + tap * ld.
template <bool kScatter>
void move_taps(typename RowMove<kScatter>::Col col, int64_t ld, typename RowMove<kScatter>::Image padded,
               const ConvGeometry& g, int p0, int p1) {
  const int wp = g.w + 2 * g.pad_w;
  const int64_t padded_plane = int64_t{g.h + 2 * g.pad_h} * wp, row_step = int64_t{g.stride_h} * wp;
  for (int c = 0; c < g.c; ++c)
    for (int r = 0; r < g.r; ++r)
      for (int s = 0; s < g.s; ++s)
        move_rows<kScatter>(col + ((int64_t{c} * g.r + r) * g.s + s) * ld,
                            padded + c * padded_plane + (p0 * row_step + int64_t{r} * wp) + s, p1 - p0, row_step, g.q,
                            g.stride_w);
}

}  // namespace

// im2col reads the padded image, so every column row is P plain row copies with no edge tests.
// Rows of ResNet's later stages are 8 or 16 floats: per-row edge handling and library calls cost
// as much as the GEMM there.
const float* padded_image(const float* x, const ConvGeometry& g) {
  if (g.pad_h == 0 && g.pad_w == 0) return x;
  const int wp = g.w + 2 * g.pad_w;
  const int64_t padded_plane = int64_t{g.h + 2 * g.pad_h} * wp, plane = int64_t{g.h} * g.w;
  thread_local std::vector<float> padded;
  padded.assign(static_cast<size_t>(g.c * padded_plane), 0.0f);
  for (int c = 0; c < g.c; ++c)
    for (int h = 0; h < g.h; ++h)
      std::memcpy(padded.data() + c * padded_plane + int64_t{h + g.pad_h} * wp + g.pad_w, x + c * plane + int64_t{h} * g.w,
                  sizeof(float) * g.w);
  return padded.data();
}

namespace {

// out[j * out_stride + i] = in[i * in_stride + j] for an 8 x 8 block: eight row loads, the
// transpose in registers, eight row stores.
void transpose8x8(float* __restrict out, int64_t out_stride, const float* __restrict in, int64_t in_stride) {
#if BMC_ISA_AVX2
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(in + i * in_stride);
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      r[i + h] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + h + 2] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(3, 2, 3, 2));
    }
  // r[0..3]: columns {0, 4}, {2, 6}, {1, 5}, {3, 7} of rows 0-3 (low lane, high lane); r[4..7] of rows 4-7.
  constexpr int column_of[4] = {0, 2, 1, 3};
  for (int q = 0; q < 4; ++q) {
    const int j = column_of[q];
    _mm256_storeu_ps(out + j * out_stride, _mm256_permute2f128_ps(r[q], r[q + 4], 0x20));
    _mm256_storeu_ps(out + (j + 4) * out_stride, _mm256_permute2f128_ps(r[q], r[q + 4], 0x31));
  }
#else
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) out[j * out_stride + i] = in[i * in_stride + j];
#endif
}

}  // namespace

namespace {

// One image x (C, H, W) into `padded` (Hp, Wp, C), its padding already zero.
void fill_channels_last(float* padded, const float* x, const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w;
  const int64_t plane = int64_t{g.h} * g.w;
  const int c8 = g.c / 8 * 8, w8 = g.w / 8 * 8;
  for (int h = 0; h < g.h; ++h) {
    float* out_row = padded + (int64_t{h + g.pad_h} * wp + g.pad_w) * g.c;
    const float* in_row = x + int64_t{h} * g.w;
    for (int c = 0; c < c8; c += 8)
      for (int w = 0; w < w8; w += 8) transpose8x8(out_row + int64_t{w} * g.c + c, g.c, in_row + c * plane + w, plane);
    for (int w = 0; w < g.w; ++w)
      for (int c = w < w8 ? c8 : 0; c < g.c; ++c) out_row[int64_t{w} * g.c + c] = in_row[c * plane + w];
  }
}

}  // namespace

int64_t padded_channels_last_size(const ConvGeometry& g) {
  return int64_t{g.h + 2 * g.pad_h} * (g.w + 2 * g.pad_w) * g.c;
}

const float* padded_channels_last(const float* x, const ConvGeometry& g) { return padded_channels_last(x, 1, 0, g); }

const float* sampled_channels_last(const float* x, int images, int64_t image_stride, const ConvGeometry& g) {
  const int64_t size = int64_t{g.p} * g.q * g.c, plane = int64_t{g.h} * g.w;
  thread_local std::vector<float> sampled;
  sampled.resize(static_cast<size_t>(images * size));
  for (int i = 0; i < images; ++i)
    for (int p = 0; p < g.p; ++p)
      for (int q = 0; q < g.q; ++q) {
        const float* in = x + i * image_stride + int64_t{p} * g.stride_h * g.w + int64_t{q} * g.stride_w;
        float* __restrict out = sampled.data() + i * size + (int64_t{p} * g.q + q) * g.c;
        for (int c = 0; c < g.c; ++c) out[c] = in[c * plane];
      }
  return sampled.data();
}

const float* padded_channels_last(const float* x, int images, int64_t image_stride, const ConvGeometry& g) {
  const int64_t size = padded_channels_last_size(g);
  thread_local std::vector<float> padded;
  padded.assign(static_cast<size_t>(images * size), 0.0f);
  for (int i = 0; i < images; ++i) fill_channels_last(padded.data() + i * size, x + i * image_stride, g);
  return padded.data();
}

namespace {

// A horizontal stride of 2 with a filter wider than one column: tap (c, r, s) of output column q
// is padded column 2q + s, element q + s / 2 of the padded row's columns of parity s % 2. With
// the image split once into those (half = ceil(Wp / 2) each), every column row is P contiguous
// runs of Q, where a gather at stride 2 read each pixel for every tap on its own (2.25 times for
// 3x3): that gather and the padded copy were a quarter of ResNet-20's 8x8 stride-2 layer. A
// filter one column wide reads only even columns, each once: there the plain gather stays.
bool splits_columns(const ConvGeometry& g) { return g.stride_w == 2 && g.s > 1; }

// x (C, H, W) as the padded image's rows split by column parity: (C, Hp, 2, half), with
// split[((c Hp + row) 2 + b) half + j] = padded (c, row, 2j + b).
const float* split_columns(const float* x, const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w, hp = g.h + 2 * g.pad_h, half = (wp + 1) / 2;
  thread_local std::vector<float> split;
  split.assign(static_cast<size_t>(int64_t{g.c} * hp * 2 * half), 0.0f);
  // x column 2m + e is padded column 2m + e + pad_w: parity (e + pad_w) % 2, at m + (e + pad_w) / 2.
  const int even_parity = g.pad_w % 2, even_at = g.pad_w / 2, odd_at = (g.pad_w + 1) / 2;
  for (int c = 0; c < g.c; ++c)
    for (int h = 0; h < g.h; ++h) {
      float* row = split.data() + (int64_t{c} * hp + h + g.pad_h) * 2 * half;
      split_pairs(row + even_parity * half + even_at, row + (1 - even_parity) * half + odd_at,
                   x + (int64_t{c} * g.h + h) * g.w, g.w);
    }
  return split.data();
}

void gather_split_taps(float* col, int64_t ld, const float* split, const ConvGeometry& g, int p0, int p1) {
  const int hp = g.h + 2 * g.pad_h, half = (g.w + 2 * g.pad_w + 1) / 2;
  const int64_t row_step = int64_t{g.stride_h} * 2 * half;
  for (int c = 0; c < g.c; ++c)
    for (int r = 0; r < g.r; ++r)
      for (int s = 0; s < g.s; ++s)
        move_rows<false>(col + ((int64_t{c} * g.r + r) * g.s + s) * ld,
                         split + ((int64_t{c} * hp + p0 * g.stride_h + r) * 2 + s % 2) * half + s / 2, p1 - p0,
                         row_step, g.q, 1);
}

}  // namespace

Im2colImage im2col_image(const float* x, const ConvGeometry& g) {
  if (splits_columns(g)) return {split_columns(x, g), true};
  return {padded_image(x, g), false};
}

void im2col(float* col, const float* x, const ConvGeometry& g) {
  im2col_rows(col, g.col_cols(), im2col_image(x, g), g, 0, g.p);
}

void im2col_rows(float* col, int64_t ld, const Im2colImage& image, const ConvGeometry& g, int p0, int p1) {
  if (image.split)
    gather_split_taps(col, ld, image.data, g, p0, p1);
  else
    move_taps<false>(col, ld, image.data, g, p0, p1);
}

// The transpose of im2col: column rows are added into a zero-padded image in the order
// (c, r, s, p, q), then its interior is added to dx, so every element of dx receives its terms
// in the order of the plain loop.
void col2im_add(float* dx, const float* col, int64_t ld, const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w;
  const int64_t padded_plane = int64_t{g.h + 2 * g.pad_h} * wp, plane = int64_t{g.h} * g.w;
  thread_local std::vector<float> padded;
  padded.assign(static_cast<size_t>(g.c * padded_plane), 0.0f);
  move_taps<true>(col, ld, padded.data(), g, 0, g.p);
  for (int c = 0; c < g.c; ++c)
    for (int h = 0; h < g.h; ++h) {
      float* __restrict out = dx + c * plane + int64_t{h} * g.w;
      const float* __restrict in = padded.data() + c * padded_plane + int64_t{h + g.pad_h} * wp + g.pad_w;
#pragma omp simd
      for (int w = 0; w < g.w; ++w) out[w] += in[w];
    }
}

void col2im_pointwise(float* dx, const float* col, int64_t ld, const ConvGeometry& g) {
  const float* none = nullptr;
  thread_local std::vector<float> zeros;
  if (g.stride_w == 2) {
    zeros.assign(static_cast<size_t>(g.w / 2 + 1), 0.0f);
    none = zeros.data();
  }
  for (int c = 0; c < g.c; ++c)
    for (int h = 0; h < g.h; ++h) {
      float* __restrict out = dx + (int64_t{c} * g.h + h) * g.w;
      const int p = h / g.stride_h;
      if (h % g.stride_h != 0 || p >= g.p) {
        std::memset(out, 0, sizeof(float) * g.w);
        continue;
      }
      const float* __restrict in = col + c * ld + int64_t{p} * g.q;
      if (none) {
        merge_pairs(out, in, none, g.w);  // Q = ceil(W / 2) without padding
        continue;
      }
      for (int w = 0; w < g.w; ++w) out[w] = w % g.stride_w == 0 && w / g.stride_w < g.q ? in[w / g.stride_w] : 0.0f;
    }
}

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
