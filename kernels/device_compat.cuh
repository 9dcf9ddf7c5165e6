// Device-only features our kernels use, behind wrappers so the host emulator implements a small,
// known set: warp shuffles, warp reductions, atomics, and the grid-stride loop. Included by .cu
// files only (never by shared cores).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/compat.cuh"

#if defined(BMC_EMU)
#include <atomic>
#endif

namespace bmc {

constexpr int kWarpSize = 32;

// `mask`: the lanes taking part (__shfl_*_sync's member mask); each must call with the same mask.
BMC_DEVICE float warp_shfl_down(float v, int delta, uint32_t mask = 0xffffffffu) {
#if defined(BMC_EMU)
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits = emu::shuffle_down_bits(bits, delta, mask);
  std::memcpy(&v, &bits, 4);
  return v;
#else
  return __shfl_down_sync(mask, v, delta);
#endif
}

BMC_DEVICE float warp_shfl_xor(float v, int lane_mask, uint32_t mask = 0xffffffffu) {
#if defined(BMC_EMU)
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits = emu::shuffle_xor_bits(bits, lane_mask, mask);
  std::memcpy(&v, &bits, 4);
  return v;
#else
  return __shfl_xor_sync(mask, v, lane_mask);
#endif
}

// Butterfly sum over a warp: every lane ends with the same total, in the same order everywhere.
BMC_DEVICE float warp_sum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v += warp_shfl_xor(v, offset);
  return v;
}

// Butterfly max over a warp (fmaxf: NaN lanes are skipped unless all are NaN); every lane ends
// with the same value.
BMC_DEVICE float warp_max(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v = fmaxf(v, warp_shfl_xor(v, offset));
  return v;
}

BMC_DEVICE float atomic_add(float* address, float value) {
#if defined(BMC_EMU)
  emu::atomic_point();
  const float old = std::atomic_ref<float>(*address).fetch_add(value);
  emu::atomic_point();
  return old;
#else
  return atomicAdd(address, value);
#endif
}

BMC_DEVICE unsigned atomic_add(unsigned* address, unsigned value) {
#if defined(BMC_EMU)
  emu::atomic_point();
  const unsigned old = std::atomic_ref<unsigned>(*address).fetch_add(value);
  emu::atomic_point();
  return old;
#else
  return atomicAdd(address, value);
#endif
}

BMC_DEVICE unsigned long long atomic_add(unsigned long long* address, unsigned long long value) {
#if defined(BMC_EMU)
  emu::atomic_point();
  const unsigned long long old = std::atomic_ref<unsigned long long>(*address).fetch_add(value);
  emu::atomic_point();
  return old;
#else
  return atomicAdd(address, value);
#endif
}

}  // namespace bmc

// Grid-stride loop with a 64-bit index, so results never depend on the grid size.
#define BMC_GRID_STRIDE_LOOP(i, n)                                                      \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
