// 2-D convolution (cross-correlation, as PyTorch's nn.Conv2d), dilation 1, groups 1.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "ops/batch_norm.h"

namespace bmc::ops {

struct Conv2dParams {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
};

// (N, K, P, Q) with P = (H + 2*pad_h - R) / stride_h + 1, Q likewise; throws if not positive.
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p);

// What the CPU forward applies to each output channel o once an image's output is computed,
// while it is in cache: the eval-mode batch norm after it, channel o's affine map as
// batch_norm_forward_eval applies it; then, when `residual` is set, the same element of that
// tensor (shaped as the output) added as ops::add_forward adds it (a residual block's shortcut;
// only with `relu`); then relu(y) if `relu`.
struct ConvEpilogue {
  std::vector<ChannelAffine> affine;
  bool relu = false;
  const float* residual = nullptr;
};

// y: (N, K, P, Q)  x: (N, C, H, W)  w: (K, C, R, S)  b: (K) or undefined. f32, one device.
// epilogue: null, or (CPU only) K affine maps.
void conv2d_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p,
                    const ConvEpilogue* epilogue = nullptr);
// dx: (N, C, H, W) overwritten; dw: (K, C, R, S) and db: (K) accumulated; each of the three is
// skipped if undefined (frozen weights, or a first layer whose input needs no gradient).
// dy: (N, K, P, Q).
void conv2d_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                     const Tensor& w, const Conv2dParams& p);

// The CPU backend's GEMM for the forward and the input gradient: our register-blocked kernel
// (ops/small_gemm.h, the default, with Winograd F(4x4, 3x3) or F(2x2, 3x3) where they suit) or OpenBLAS on
// im2col, the plain reference the tests compare it with.
enum class ConvGemm { Own, OpenBlas };
void set_conv_gemm(ConvGemm gemm);

}  // namespace bmc::ops
