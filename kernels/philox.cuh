// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), written
// once for host and device. A value depends only on (key, counter), never on grid shape or thread
// count, so CPU and GPU produce identical streams. Checked against Random123's known answers.
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

struct PhiloxBlock {
  uint32_t v[4];
};

namespace philox_detail {

constexpr uint32_t kMul0 = 0xD2511F53u;
constexpr uint32_t kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1

BMC_HD void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t product = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

}  // namespace philox_detail

// Ten rounds of Philox4x32 on counter c with key k.
BMC_HD PhiloxBlock philox4x32_10(PhiloxBlock c, uint32_t k0, uint32_t k1) {
  using namespace philox_detail;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kMul0, c.v[0], hi0, lo0);
    mulhilo(kMul1, c.v[2], hi1, lo1);
    PhiloxBlock next;
    next.v[0] = hi1 ^ c.v[1] ^ k0;
    next.v[1] = lo1;
    next.v[2] = hi0 ^ c.v[3] ^ k1;
    next.v[3] = lo0;
    c = next;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return c;
}

// bmc's indexing convention: key = 64-bit seed, counter = (64-bit element-group index,
// 32-bit stream id, 32-bit step). Each call yields four 32-bit values for group `index`.
BMC_HD PhiloxBlock philox_at(uint64_t seed, uint64_t index, uint32_t stream, uint32_t step) {
  PhiloxBlock c;
  c.v[0] = static_cast<uint32_t>(index);
  c.v[1] = static_cast<uint32_t>(index >> 32);
  c.v[2] = stream;
  c.v[3] = step;
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// The 32-bit value for element i of a stream (four elements share one Philox block).
BMC_HD uint32_t philox_u32(uint64_t seed, uint64_t i, uint32_t stream, uint32_t step) {
  return philox_at(seed, i >> 2, stream, step).v[i & 3];
}

// Uniform float in [0, 1) with 24 random bits: exact on every platform.
BMC_HD float u32_to_unit_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }

// Uniform integer in [0, n) by multiply-shift (n < 2^32); bias below 2^-32 * n, identical everywhere.
BMC_HD uint32_t u32_to_range(uint32_t x, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(x) * n) >> 32);
}

}  // namespace bmc
