// Elementwise arithmetic cores shared by the CPU loops (ops/elementwise.cpp) and the kernels
// (kernels/elementwise.cu). Never fused (mul_rn/add_rn), so both sides agree bitwise.
#pragma once

#include "kernels/compat.cuh"

namespace bmc {

BMC_HD float add_value(float a, float b) { return add_rn(a, b); }

// y + alpha * x, rounded after the product and after the sum (no FMA).
BMC_HD float axpy_value(float y, float alpha, float x) { return add_rn(y, mul_rn(alpha, x)); }

BMC_HD float scale_value(float y, float alpha) { return mul_rn(y, alpha); }

// y limited to [lo, hi]; NaN stays NaN (comparisons, as torch.clamp).
BMC_HD float clamp_value(float y, float lo, float hi) { return y < lo ? lo : (y > hi ? hi : y); }

}  // namespace bmc
