// Elementwise activation cores shared by the CPU backend and our kernels.
#pragma once

#include "kernels/compat.cuh"

namespace bmc {

// max(x, 0); NaN propagates (x < 0 is false for NaN), as torch.relu does.
BMC_HD float relu(float x) { return x < 0.0f ? 0.0f : x; }

// Gradient through ReLU from its output: passes where y > 0. At y == 0 (the kink) the gradient
// is 0, PyTorch's convention.
BMC_HD float relu_grad(float dy, float y) { return y > 0.0f ? dy : 0.0f; }

}  // namespace bmc
