#include "ops/im2col.h"

#include <cstring>
#include <vector>

namespace bmc::ops {
namespace {

// Rows of Q floats, `rows` of them, from a source with row stride `src_stride` and column step
// STEP (the convolution's horizontal stride). Q and STEP as constants for the image widths of
// CIFAR and ImageNet ResNets make each row a few vector moves.
template <int Q, int STEP>
void copy_rows(float* __restrict out, const float* __restrict src, int rows, int64_t src_stride) {
  for (int p = 0; p < rows; ++p)
    for (int q = 0; q < Q; ++q) out[int64_t{p} * Q + q] = src[p * src_stride + q * STEP];
}

// dst row p (row stride dst_stride, column step STEP) += in row p: the transpose of copy_rows.
template <int Q, int STEP>
void add_rows(float* __restrict dst, const float* __restrict in, int rows, int64_t dst_stride) {
  for (int p = 0; p < rows; ++p)
    for (int q = 0; q < Q; ++q) dst[p * dst_stride + q * STEP] += in[int64_t{p} * Q + q];
}

template <int STEP>
bool copy_rows_fixed(float* out, const float* src, int rows, int64_t src_stride, int q_count) {
  switch (q_count) {
    case 7: copy_rows<7, STEP>(out, src, rows, src_stride); return true;
    case 8: copy_rows<8, STEP>(out, src, rows, src_stride); return true;
    case 14: copy_rows<14, STEP>(out, src, rows, src_stride); return true;
    case 16: copy_rows<16, STEP>(out, src, rows, src_stride); return true;
    case 28: copy_rows<28, STEP>(out, src, rows, src_stride); return true;
    case 32: copy_rows<32, STEP>(out, src, rows, src_stride); return true;
    case 56: copy_rows<56, STEP>(out, src, rows, src_stride); return true;
    default: return false;
  }
}

template <int STEP>
bool add_rows_fixed(float* dst, const float* in, int rows, int64_t dst_stride, int q_count) {
  switch (q_count) {
    case 7: add_rows<7, STEP>(dst, in, rows, dst_stride); return true;
    case 8: add_rows<8, STEP>(dst, in, rows, dst_stride); return true;
    case 14: add_rows<14, STEP>(dst, in, rows, dst_stride); return true;
    case 16: add_rows<16, STEP>(dst, in, rows, dst_stride); return true;
    case 28: add_rows<28, STEP>(dst, in, rows, dst_stride); return true;
    case 32: add_rows<32, STEP>(dst, in, rows, dst_stride); return true;
    case 56: add_rows<56, STEP>(dst, in, rows, dst_stride); return true;
    default: return false;
  }
}

void copy_rows(float* __restrict out, const float* __restrict src, int rows, int64_t src_stride, int q_count,
               int step) {
  if (step == 1 && copy_rows_fixed<1>(out, src, rows, src_stride, q_count)) return;
  if (step == 2 && copy_rows_fixed<2>(out, src, rows, src_stride, q_count)) return;
  for (int p = 0; p < rows; ++p)
    for (int q = 0; q < q_count; ++q) out[int64_t{p} * q_count + q] = src[p * src_stride + int64_t{q} * step];
}

void add_rows(float* __restrict dst, const float* __restrict in, int rows, int64_t dst_stride, int q_count,
              int step) {
  if (step == 1 && add_rows_fixed<1>(dst, in, rows, dst_stride, q_count)) return;
  if (step == 2 && add_rows_fixed<2>(dst, in, rows, dst_stride, q_count)) return;
  for (int p = 0; p < rows; ++p)
    for (int q = 0; q < q_count; ++q) dst[p * dst_stride + int64_t{q} * step] += in[int64_t{p} * q_count + q];
}

// The image copied into a zero-padded one (per thread, reused), so every column row is P plain
// row copies with no edge tests. Rows of ResNet's later stages are 8 or 16 floats: per-row edge
// handling and library calls cost as much as the GEMM there.
const float* padded_image(const float* x, const ConvGeometry& g) {
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

}  // namespace

void im2col(float* col, const float* x, const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w;
  const int64_t padded_plane = int64_t{g.h + 2 * g.pad_h} * wp;
  const float* padded = padded_image(x, g);
  for (int c = 0; c < g.c; ++c)
    for (int r = 0; r < g.r; ++r)
      for (int s = 0; s < g.s; ++s)
        copy_rows(col + ((int64_t{c} * g.r + r) * g.s + s) * g.col_cols(), padded + c * padded_plane + int64_t{r} * wp + s,
                  g.p, int64_t{g.stride_h} * wp, g.q, g.stride_w);
}

// The transpose of im2col: column rows are added into a zero-padded image in the order
// (c, r, s, p, q), then its interior is added to dx, so every element of dx receives its terms
// in the order of the plain loop.
void col2im_add(float* dx, const float* col, const ConvGeometry& g) {
  const int wp = g.w + 2 * g.pad_w;
  const int64_t padded_plane = int64_t{g.h + 2 * g.pad_h} * wp, plane = int64_t{g.h} * g.w;
  thread_local std::vector<float> padded;
  padded.assign(static_cast<size_t>(g.c * padded_plane), 0.0f);
  for (int c = 0; c < g.c; ++c)
    for (int r = 0; r < g.r; ++r)
      for (int s = 0; s < g.s; ++s)
        add_rows(padded.data() + c * padded_plane + int64_t{r} * wp + s,
                 col + ((int64_t{c} * g.r + r) * g.s + s) * g.col_cols(), g.p, int64_t{g.stride_h} * wp, g.q,
                 g.stride_w);
  for (int c = 0; c < g.c; ++c)
    for (int h = 0; h < g.h; ++h) {
      float* __restrict out = dx + c * plane + int64_t{h} * g.w;
      const float* __restrict in = padded.data() + c * padded_plane + int64_t{h + g.pad_h} * wp + g.pad_w;
#pragma omp simd
      for (int w = 0; w < g.w; ++w) out[w] += in[w];
    }
}

}  // namespace bmc::ops
