// ReLU, elementwise: y = max(x, 0) (NaN passes through, as in PyTorch).
#pragma once

#include "core/tensor.h"

namespace bmc::ops {

// y, x: any shape, f32, same shape. y may alias x.
void relu_forward(Tensor& y, const Tensor& x);
// dx = dy where y > 0 else 0. dx, dy, y: same shape, f32. dx may alias dy.
void relu_backward(Tensor& dx, const Tensor& dy, const Tensor& y);

}  // namespace bmc::ops
