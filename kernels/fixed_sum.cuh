// A float sum whose order depends on the element count only, so a CUDA kernel, its host
// emulation and the CPU backend produce the same bits: the elements are cut into chunks of
// kFixedSumChunk; in a chunk, lane t (of kFixedSumLanes) adds elements t, t + lanes, ... in order,
// then a shared-memory style tree halves the lanes (lane t += lane t + stride, stride = lanes/2 ..
// 1). A second pass reduces the chunk partials the same way (one chunk of partials per lane
// stride). On the GPU one block of kFixedSumLanes threads reduces one chunk.
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

constexpr int kFixedSumLanes = 256;
constexpr int64_t kFixedSumChunk = 16 * kFixedSumLanes;

BMC_HD int64_t fixed_sum_chunks(int64_t n) { return n == 0 ? 0 : ceil_div(n, kFixedSumChunk); }

// The tree over lanes[0..kFixedSumLanes): the result is lanes[0] (the others are overwritten).
BMC_HD float fixed_sum_tree(float* lanes) {
  for (int stride = kFixedSumLanes / 2; stride > 0; stride >>= 1)
    for (int t = 0; t < stride; ++t) lanes[t] = add_rn(lanes[t], lanes[t + stride]);
  return lanes[0];
}

// Host form of one chunk: value(i) for i in [begin, min(begin + chunk, n)), lane by lane.
template <class Value>
float fixed_sum_chunk_host(int64_t begin, int64_t n, int64_t chunk, Value value) {
  float lanes[kFixedSumLanes];
  for (int t = 0; t < kFixedSumLanes; ++t) {
    float s = 0.0f;
    for (int64_t i = begin + t; i < begin + chunk && i < n; i += kFixedSumLanes) s = add_rn(s, value(i));
    lanes[t] = s;
  }
  return fixed_sum_tree(lanes);
}

// Host form of the second pass: the sum of `count` partials.
inline float fixed_sum_partials_host(const float* partials, int64_t count) {
  return fixed_sum_chunk_host(0, count, count, [&](int64_t i) { return partials[i]; });
}

// The fixed-order sum of value(0) .. value(n - 1): the chunks, then their partials.
template <class Value>
float fixed_sum_host(int64_t n, Value value) {
  float lanes[kFixedSumLanes] = {};
  const int64_t chunks = fixed_sum_chunks(n);
  for (int64_t q = 0; q < chunks; ++q) {
    float& lane = lanes[q % kFixedSumLanes];
    lane = add_rn(lane, fixed_sum_chunk_host(q * kFixedSumChunk, n, kFixedSumChunk, value));
  }
  return fixed_sum_tree(lanes);
}

}  // namespace bmc
