#include "ops/im2col.h"

#include <algorithm>
#include <cstring>

namespace bmc::ops {
namespace {

// Output columns q whose input column q*stride - pad + s lies inside [0, width): [lo, hi).
struct ValidRange {
  int lo, hi;
};

ValidRange valid_range(int out, int in, int stride, int pad, int tap) {
  const int first = pad - tap;  // smallest q*stride that is inside
  const int lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int last = in - 1 + pad - tap;  // largest q*stride that is inside
  const int hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  return {std::min(lo, out), std::max(std::min(lo, out), hi)};
}

}  // namespace

void im2col(float* col, const float* x, const ConvGeometry& g) {
  const int64_t plane = int64_t{g.h} * g.w;
  for (int c = 0; c < g.c; ++c) {
    const float* xc = x + c * plane;
    for (int r = 0; r < g.r; ++r) {
      for (int s = 0; s < g.s; ++s) {
        float* row = col + ((int64_t{c} * g.r + r) * g.s + s) * g.col_cols();
        const ValidRange qs = valid_range(g.q, g.w, g.stride_w, g.pad_w, s);
        for (int p = 0; p < g.p; ++p) {
          float* out = row + int64_t{p} * g.q;
          const int ih = p * g.stride_h - g.pad_h + r;
          if (ih < 0 || ih >= g.h) {
            std::memset(out, 0, sizeof(float) * g.q);
            continue;
          }
          std::fill(out, out + qs.lo, 0.0f);
          // Input column of output column q is q*stride + base (base may be negative).
          const float* in = xc + int64_t{ih} * g.w;
          const int base = s - g.pad_w;
          if (g.stride_w == 1) {
            std::memcpy(out + qs.lo, in + qs.lo + base, sizeof(float) * (qs.hi - qs.lo));
          } else {
            for (int q = qs.lo; q < qs.hi; ++q) out[q] = in[q * g.stride_w + base];
          }
          std::fill(out + qs.hi, out + g.q, 0.0f);
        }
      }
    }
  }
}

void col2im_add(float* dx, const float* col, const ConvGeometry& g) {
  const int64_t plane = int64_t{g.h} * g.w;
  for (int c = 0; c < g.c; ++c) {
    float* dxc = dx + c * plane;
    for (int r = 0; r < g.r; ++r) {
      for (int s = 0; s < g.s; ++s) {
        const float* row = col + ((int64_t{c} * g.r + r) * g.s + s) * g.col_cols();
        const ValidRange qs = valid_range(g.q, g.w, g.stride_w, g.pad_w, s);
        for (int p = 0; p < g.p; ++p) {
          const int ih = p * g.stride_h - g.pad_h + r;
          if (ih < 0 || ih >= g.h) continue;
          const float* in = row + int64_t{p} * g.q;
          float* out = dxc + int64_t{ih} * g.w;
          const int base = s - g.pad_w;
          if (g.stride_w == 1) {  // contiguous: a vectorisable row add (the common 3x3 stride-1 case)
            float* shifted = out + base;
#pragma omp simd
            for (int q = qs.lo; q < qs.hi; ++q) shifted[q] += in[q];
          } else {
            for (int q = qs.lo; q < qs.hi; ++q) out[q * g.stride_w + base] += in[q];
          }
        }
      }
    }
  }
}

}  // namespace bmc::ops
