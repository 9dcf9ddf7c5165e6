// The device side of kernels/fixed_sum.cuh: one block of kFixedSumLanes threads reduces in the
// fixed order the host forms use, so kernels, their emulation and the CPU backend agree bitwise.
// Included by .cu files only; every thread of the block must call these (they synchronise).
#pragma once

#include "kernels/device_compat.cuh"
#include "kernels/fixed_sum.cuh"

namespace bmc {

// Lane sums into shared memory, then the tree of fixed_sum_tree; every thread returns the total.
BMC_DEVICE float block_fixed_sum(float lane_sum) {
  __shared__ float lanes[kFixedSumLanes];
  lanes[threadIdx.x] = lane_sum;
  __syncthreads();
  for (int stride = kFixedSumLanes / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) lanes[threadIdx.x] = add_rn(lanes[threadIdx.x], lanes[threadIdx.x + stride]);
    __syncthreads();
  }
  const float total = lanes[0];
  __syncthreads();  // the next call may overwrite lanes
  return total;
}

// fixed_sum_host(n, value) computed by one block: the chunks one after the other, then their
// partials.
template <class Value>
BMC_DEVICE float block_fixed_sum_range(int64_t n, Value value) {
  const int t = static_cast<int>(threadIdx.x);
  float partial_lane = 0.0f;
  const int64_t chunks = fixed_sum_chunks(n);
  for (int64_t q = 0; q < chunks; ++q) {
    const int64_t begin = q * kFixedSumChunk;
    float lane = 0.0f;
    for (int64_t i = begin + t; i < begin + kFixedSumChunk && i < n; i += kFixedSumLanes) lane = add_rn(lane, value(i));
    const float p = block_fixed_sum(lane);
    if (q % kFixedSumLanes == t) partial_lane = add_rn(partial_lane, p);
  }
  return block_fixed_sum(partial_lane);
}

}  // namespace bmc
