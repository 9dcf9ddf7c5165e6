// The input gradient of a 3x3 stride-2 convolution with padding 1 as four stride-1 products, one
// per parity of the input pixel, instead of a column-matrix GEMM and col2im's scatter.
//
// Input row h = 2i + a receives filter row r only where h + 1 - r is even, from output row
// p = i + (a + 1 - r) / 2: even rows take r = 1 from row i, odd rows r = 0 from row i + 1 and
// r = 2 from row i; columns alike. So parity (a, b) of dx (C, H, W) is a product
//   dx_ab (C, Ha * Wb) = w_ab (C, K * |r's| * |s's|) * taps of dy,
// whose taps are dy's planes shifted by 0 or 1 row and column: read in place from dy with one zero
// row and column appended, the output rows computed Q + 1 wide (the last column dropped). Every
// multiply-add of the column-matrix path, and no column matrix (9 taps for every 4 input pixels,
// 30% of these layers' time with col2im and its zeroing). Each element of dx is one chain of
// fused multiply-adds over its taps in (k, r, s) order: deterministic, and within rounding of the
// column-matrix path.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/im2col.h"
#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

// True for 3x3, stride 2, padding 1 with output rows long enough that the dropped column costs
// little. One image a product, even on 16x16 inputs (71 columns): three images stacked, their dy
// rows one after another, took 2.56-2.62 ms against 2.20-2.32 for ResNet-20's 32 -> 64 layer.
bool parity_input_gradient_fits(const ConvGeometry& g);

// The filter w (K, C, 3, 3) split by parity and packed, with the taps' offsets into dy.
struct ParityInputGradient {
  int k = 0;
  ConvGeometry g{};
  int64_t wide = 0, plane = 0;     // dy's padded row (Q + 1) and plane ((P + 1) rows)
  int rows[2] = {}, cols[2] = {};  // input rows (columns) of each parity
  int64_t columns[4] = {};         // parity 2a + b's wide columns
  std::vector<float> panels[4];    // parity 2a + b: (C, taps) in panels
  std::vector<int64_t> offsets[4]; // per tap (k, r, s), into the padded dy
};

ParityInputGradient parity_input_gradient(const float* w, int k, const ConvGeometry& g);

// dx (C, H, W) of one image overwritten from its dy (K, P, Q).
void parity_input_gradient_image(float* dx, const float* dy, const ParityInputGradient& pg);

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
