// Winograd's minimal filtering F(2x2, 3x3) and F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016) for 3x3 stride-1 convolutions with padding 1, on the CPU:
// each P x P block of outputs comes from a (P + 2) x (P + 2) block of inputs with (P + 2)^2
// multiplies per input channel instead of 9 P^2 (16 instead of 36 for P = 2, 36 instead of 144
// for P = 4). With the transforms
//   U = G g G^T (filter), V = B^T d B (input tile), Y = A^T [sum over c of U ⊙ V] A,
// the sum over channels is one GEMM per position of the transformed tile:
//   M_xi (K, tiles) = U_xi (K, C) * V_xi (C, tiles),
// run on our register-blocked kernel (ops/small_gemm.h) over the tiles of a few images at once.
// The transforms add and subtract in a fixed order, so results are deterministic and do not
// depend on how images are grouped; they differ from a direct convolution by rounding only. For
// P = 2 the coefficients are 0, +-1 and +-1/2, exact in binary; for P = 4 the input and output
// transforms' are small integers (exact) and the filter's (1/4, 1/6, 1/12, 1/24) are computed in
// double and rounded once, so its results err by a few times P = 2's (tests/ops/test_winograd.cpp
// bounds both).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/im2col.h"
#include "core/isa_target.h"

BMC_ISA_BEGIN
namespace bmc::ops::BMC_ISA_NS {

// The filter transformed and packed for small_gemm: (tile + 2)^2 matrices U_xi (K, C), each in
// panels, for tiles of tile x tile outputs (2 or 4).
struct WinogradFilter {
  int k = 0, c = 0, tile = 2;
  std::vector<float> panels;  // (tile + 2)^2 x gemm_panels_size(k, c)
};

// w: (K, C, 3, 3) row-major.
WinogradFilter winograd_filter(const float* w, int k, int c, int tile);

// y (images, K, H, W) = the 3x3 convolution, stride 1, padding 1, of x (images, C, H, W).
// Any H, W >= 1 (odd sizes cover the last row and column with half tiles).
void winograd_convolve(float* y, const float* x, int images, const WinogradFilter& f, int h, int w);

// The tile (outputs per side) a convolution of geometry g into k output channels runs with, or 0
// when it does not run this way. Only 3x3, stride 1, padding 1, and only with channels few
// enough that one GEMM covers 32 tiles within L2. 4x4 outputs (36 transformed positions) with at
// least 16 channels in and out on rows of 32 and more, where a tile row's spare column costs
// little: CIFAR ResNets' 16-channel stage (2.99 against 4.38 ms direct on a Zen 3 core pair).
// Otherwise 2x2 with at least 32 channels: the 32- and 64-channel CIFAR stages and ImageNet
// ResNets' 64- and 128-channel ones; with 16 channels at 2x2 the transforms cost about what the
// multiplies save, and on 16x16 rows 2x2 beat 4x4 (2.82 against 3.32 ms at 32 channels).
int winograd_tile(const ConvGeometry& g, int k);

// How many images winograd_convolve should take at once for C input and K output channels of
// H x W: enough tiles per GEMM, its two transformed buffers within L2.
int winograd_images_per_call(int c, int k, int h, int w, int tile);

// The filter gradient in F(2x2, 3x3)'s domain. With V = B^T d B (the input tiles, as in the
// forward) and M = A dy A^T (each 2 x 2 block of the output gradient lifted to 4 x 4), the
// gradient of U = G g G^T is dU_xi (K, C) = sum over tiles of M_xi V_xi^T, one GEMM per position
// over the tiles (8 C K per 2 x 2 outputs where the direct gradient has 18 C K), and
// dw = G^T dU G once the batch is summed. Its coefficients are 0, +-1 and +-1/2: exact.
//
// True when a convolution of geometry g into k channels takes its filter gradient this way: 3x3,
// stride 1, padding 1, at least 16 channels in and out, and few enough that one GEMM batch
// covers 32 tiles within L2.
bool winograd_filter_gradient_fits(const ConvGeometry& g, int k);

// Floats of one dU: 16 positions of (K, C).
int64_t winograd_filter_gradient_size(int c, int k);

// du (16, K, C) += the transformed filter gradient of `images` images, x (images, C, H, W) and
// dy (images, K, H, W).
void winograd_filter_gradient_accumulate(float* du, const float* x, const float* dy, int images, int c, int k, int h,
                                         int w);

// dw (K, C, 3, 3) += G^T dU G.
void winograd_filter_gradient_finish(float* dw, const float* du, int c, int k);

}  // namespace bmc::ops::BMC_ISA_NS
BMC_ISA_END
