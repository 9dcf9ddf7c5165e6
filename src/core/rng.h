// Host-side random fills from the shared Philox stream (kernels/philox.cuh): element i of a fill
// depends only on (seed, stream, i), so a fill is identical whatever device the result is copied
// to. Used for initialisation, where values are computed on the host once and copied.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace bmc {

// Uniform in [lo, hi): lo + (hi - lo) * u with u = the 24-bit unit float of Philox value i.
void fill_uniform(Tensor& t, uint64_t seed, uint32_t stream, float lo = 0.0f, float hi = 1.0f);

// Normal(mean, std) by Box-Muller in double precision: element i takes Philox values 2i and 2i+1
// as u1 = (a + 0.5) / 2^32 in (0, 1) and u2 = b / 2^32, z = sqrt(-2 ln u1) cos(2 pi u2), rounded
// to f32 once at the end (double keeps the result independent of libm's float rounding).
void fill_normal(Tensor& t, uint64_t seed, uint32_t stream, float mean = 0.0f, float std = 1.0f);

}  // namespace bmc
