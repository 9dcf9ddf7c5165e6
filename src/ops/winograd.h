// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016) for 3x3 stride-1 convolutions with padding 1, on the CPU: each 2x2
// block of outputs comes from a 4x4 block of inputs with 16 multiplies per input channel instead
// of 36. With the transforms
//   U = G g G^T (filter, 4x4 per output and input channel), V = B^T d B (input tile),
//   Y = A^T [sum over c of U ⊙ V] A,
// the sum over channels is 16 GEMMs, one per position of the 4x4 tile:
//   M_xi (K, tiles) = U_xi (K, C) * V_xi (C, tiles),
// run on our register-blocked kernel (ops/small_gemm.h) over the tiles of a few images at once.
// The transforms add and subtract in a fixed order, so results are deterministic and do not
// depend on how images are grouped; they differ from a direct convolution by rounding only
// (the transforms' coefficients are 0, +-1 and +-1/2, exact in binary).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/im2col.h"

namespace bmc::ops {

// The filter transformed and packed for small_gemm: 16 matrices U_xi (K, C), each in panels.
struct WinogradFilter {
  int k = 0, c = 0;
  std::vector<float> panels;  // 16 x gemm_panels_size(k, c)
};

// w: (K, C, 3, 3) row-major.
WinogradFilter winograd_filter(const float* w, int k, int c);

// y (images, K, H, W) = the 3x3 convolution, stride 1, padding 1, of x (images, C, H, W).
// Any H, W >= 1 (odd sizes cover the last row and column with half tiles).
void winograd_convolve(float* y, const float* x, int images, const WinogradFilter& f, int h, int w);

// Whether a convolution of geometry g into k output channels runs this way: 3x3, stride 1,
// padding 1, at least 32 channels in and out (with 16, as in ResNet-20's first stage, the
// transforms cost about what the multiplies save), and few enough that one GEMM covers 32 tiles
// within L2. That is CIFAR ResNets' 32- and 64-channel layers and ImageNet ResNets' 64- and
// 128-channel stages.
bool winograd_suits(const ConvGeometry& g, int k);

// How many images winograd_convolve should take at once for C input and K output channels of
// H x W: enough tiles per GEMM, its two transformed buffers within L2.
int winograd_images_per_call(int c, int k, int h, int w);

}  // namespace bmc::ops
