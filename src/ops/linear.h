// Fully connected layer, PyTorch's nn.Linear convention: y = x W^T + b.
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// y: (N, O)  x: (N, I)  w: (O, I)  b: (O) or undefined. All f32, one device.
void linear_forward(Tensor& y, const Tensor& x, const Tensor& w, const Tensor& b);
// dx: (N, I) overwritten (skipped if undefined); dw: (O, I) and db: (O) accumulated (db skipped
// if undefined). dy: (N, O).
void linear_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dy, const Tensor& x,
                     const Tensor& w);

}  // namespace bmc::ops
