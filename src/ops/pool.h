// Pooling over (H, W) of NCHW tensors, PyTorch semantics: max pooling ignores padding, average
// pooling counts padded zeros (count_include_pad=True, PyTorch's default), floor output sizes.
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

struct Pool2dParams {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
};

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p);

// y: (N, C, P, Q)  x: (N, C, H, W). Ties: the first maximum in row-major window order wins.
void max_pool2d_forward(Tensor& y, const Tensor& x, const Pool2dParams& p);
// dx: (N, C, H, W) overwritten; dy, y: (N, C, P, Q); x: (N, C, H, W).
void max_pool2d_backward(Tensor& dx, const Tensor& dy, const Tensor& x, const Tensor& y, const Pool2dParams& p);

void avg_pool2d_forward(Tensor& y, const Tensor& x, const Pool2dParams& p);
void avg_pool2d_backward(Tensor& dx, const Tensor& dy, const Pool2dParams& p);

// y: (N, C)  x: (N, C, H, W): mean over H and W.
void global_avg_pool_forward(Tensor& y, const Tensor& x);
// dx: (N, C, H, W) overwritten with dy / (H*W) broadcast.
void global_avg_pool_backward(Tensor& dx, const Tensor& dy);

}  // namespace bmc::ops
