// The filter gradient of a stride-1 convolution with few input channels (the 3-channel stem), read
// in place from the padded image: no column matrix. With C * S below two vectors the channels-last
// GEMM of ops/conv2d.cpp would run mostly masked lanes, and OpenBLAS on im2col spends as long
// building and packing the columns as multiplying. Here the pixels are the vector axis: each pass
// keeps 4 output channels x S filter columns of sums in registers over every pixel of one filter
// row, then adds their horizontal sums to the partial.
#pragma once

#include "ops/im2col.h"
#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

// True when this build runs it for g: stride 1, at most 3 filter columns, AVX2 with FMA.
bool narrow_filter_gradient_fits(const ConvGeometry& g);

// partial (C*R*S, K), tap-major as the column-matrix GEMM leaves it, += the filter gradient of
// one image. xpad: the image from padded_image; dy: (K, P*Q).
void accumulate_narrow_filter_gradient(float* partial, const float* xpad, const float* dy, int k,
                                       const ConvGeometry& g);

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
