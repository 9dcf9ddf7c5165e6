// im2col / col2im for one NCHW image (CPU). The column matrix has one row per filter tap
// (c, r, s), in the order of a (K, C, R, S) filter's inner dimensions, and one column per output
// pixel (p, q), so a convolution is the GEMM  y (K, P*Q) = w (K, C*R*S) * col (C*R*S, P*Q).
#pragma once

#include <cstdint>

#include "core/isa_target.h"
#include "ops/conv_geometry.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

// x (C, H, W) copied into a zero-padded (C, H + 2 pad_h, W + 2 pad_w) image, in a buffer of the
// calling thread (valid until its next call); x itself when there is no padding.
const float* padded_image(const float* x, const ConvGeometry& g);

// x (C, H, W) copied into a zero-padded channels-last image (H + 2 pad_h, W + 2 pad_w, C), in a
// buffer of the calling thread (valid until its next call).
const float* padded_channels_last(const float* x, const ConvGeometry& g);
// The same for `images` images image_stride apart, one after the other, each
// padded_channels_last_size(g) floats.
const float* padded_channels_last(const float* x, int images, int64_t image_stride, const ConvGeometry& g);
int64_t padded_channels_last_size(const ConvGeometry& g);
// For a 1x1 filter without padding: only the pixels it reads, (P, Q, C) per image, pixel (p, q)
// being x's (p stride_h, q stride_w); a quarter of the image at stride 2.
const float* sampled_channels_last(const float* x, int images, int64_t image_stride, const ConvGeometry& g);

// col: (C*R*S, P*Q) written; taps that fall into the padding are 0.  x: (C, H, W).
void im2col(float* col, const float* x, const ConvGeometry& g);

// One image x (C, H, W) made ready for im2col_rows: zero-padded, or, with a horizontal stride
// of 2, the padded rows split by column parity. In a buffer of the calling thread (valid until
// its next call).
struct Im2colImage {
  const float* data;
  bool split;
};
Im2colImage im2col_image(const float* x, const ConvGeometry& g);
// The column matrix's part for output rows [p0, p1), (C*R*S, (p1 - p0) * Q), with row stride ld.
void im2col_rows(float* col, int64_t ld, const Im2colImage& image, const ConvGeometry& g, int p0, int p1);
// dx: (C, H, W) += the column gradients (C*R*S, P*Q), row stride ld, scattered back
// (overlapping taps accumulate).
void col2im_add(float* dx, const float* col, int64_t ld, const ConvGeometry& g);
// dx: (C, H, W) overwritten with the column gradients of a 1x1 filter without padding, at any
// stride: each pixel receives at most one term, so there is nothing to add up (a projection
// shortcut's input gradient: 3 in 4 pixels zero).
void col2im_pointwise(float* dx, const float* col, int64_t ld, const ConvGeometry& g);

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
