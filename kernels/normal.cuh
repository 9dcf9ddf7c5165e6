// Standard normal deviates that are the same bits on the host and on the device: Philox
// (kernels/philox.cuh) feeds Marsaglia's polar method, and the logarithm is our own (exponent
// split plus an atanh series, only correctly rounded +, *, / and sqrt), because logf and
// the CUDA math library's logf differ in the last bits. The deviate for (seed, index, stream,
// step) depends on nothing else, so a search that draws its noise this way repeats exactly on
// any backend and any grid.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/compat.cuh"
#include "kernels/philox.cuh"

namespace bmc {

// ln(x) for a positive, finite, normal x; relative error below 1e-7.
BMC_HD float portable_logf(float x) {
  uint32_t bits;
  memcpy(&bits, &x, 4);
  int exponent = static_cast<int>((bits >> 23) & 0xffu) - 127;
  bits = (bits & 0x007fffffu) | 0x3f800000u;  // the mantissa m in [1, 2)
  float m;
  memcpy(&m, &bits, 4);
  if (m > 1.41421356f) {
    m = mul_rn(m, 0.5f);
    ++exponent;
  }
  // ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172: five terms leave 2e-9.
  const float t = (m - 1.0f) / (m + 1.0f);
  const float t2 = mul_rn(t, t);
  float p = 1.0f / 9.0f;
  p = add_rn(mul_rn(p, t2), 1.0f / 7.0f);
  p = add_rn(mul_rn(p, t2), 1.0f / 5.0f);
  p = add_rn(mul_rn(p, t2), 1.0f / 3.0f);
  p = add_rn(mul_rn(p, t2), 1.0f);
  return add_rn(mul_rn(static_cast<float>(exponent), 0.693147182f), mul_rn(mul_rn(2.0f, t), p));
}

// The standard normal deviate number `index` of (seed, stream, step). Each Philox block gives two
// polar attempts; a rejected pair moves to the next block (attempt a uses index + a * 2^40).
BMC_HD float philox_normal(uint64_t seed, uint64_t index, uint32_t stream, uint32_t step) {
  for (uint64_t attempt = 0;; ++attempt) {
    const PhiloxBlock r = philox_at(seed, index + (attempt << 40), stream, step);
    for (int pair = 0; pair < 2; ++pair) {
      const float u = add_rn(mul_rn(2.0f, u32_to_unit_float(r.v[2 * pair])), -1.0f);
      const float v = add_rn(mul_rn(2.0f, u32_to_unit_float(r.v[2 * pair + 1])), -1.0f);
      const float s = add_rn(mul_rn(u, u), mul_rn(v, v));
      if (s > 0.0f && s < 1.0f) return mul_rn(u, sqrtf(mul_rn(-2.0f, portable_logf(s)) / s));
    }
  }
}

}  // namespace bmc
