// Magnitude pruning on the device: the threshold key is found by four radix-select passes (one
// 65536-bin histogram per 16-bit digit, global atomics), each followed by a one-thread bin
// selection, so no host sort and no host round trip is needed; then one pass updates the masks.
// Histogram passes read 8 bytes per element (w, mask); the apply pass reads 8 and writes 4.
// Atomic increments commute, so the counts and the selected key are deterministic.
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"
#include "kernels/prune.h"

namespace bmc::BMC_KNS {
namespace {

constexpr int kPruneBlock = 256;

// --- kernels

__global__ void prune_histogram_kernel(uint32_t* counts, const float* w, const float* mask, int64_t n,
                                       uint32_t base_index, int pass, const PruneKey* prefix_ptr) {
  const PruneKey prefix = *prefix_ptr;
  BMC_GRID_STRIDE_LOOP(i, n) {
    if (mask[i] == 0.0f) continue;
    const PruneKey key{magnitude_bits(w[i]), base_index + static_cast<uint32_t>(i)};
    if (key_has_prefix(key, prefix, pass)) atomic_add(&counts[key_digit(key, pass)], 1u);
  }
}

__global__ void prune_select_bin_kernel(uint32_t* counts, PruneKey* prefix, int64_t* state, int pass) {
  if (pass == 0) {
    int64_t total = 0;
    for (uint32_t b = 0; b < kPruneBins; ++b) total += counts[b];
    state[1] = total;
  }
  int64_t remaining = state[0];
  uint32_t digit = 0;
  for (uint32_t b = 0; b < kPruneBins; ++b) {
    if (remaining < counts[b]) {
      digit = b;
      break;
    }
    remaining -= counts[b];
  }
  *prefix = key_with_digit(*prefix, pass, digit);
  state[0] = remaining;
  for (uint32_t b = 0; b < kPruneBins; ++b) counts[b] = 0;
}

__global__ void prune_apply_kernel(float* mask, const float* w, int64_t n, uint32_t base_index, PruneKey threshold) {
  BMC_GRID_STRIDE_LOOP(i, n) { mask[i] = pruned_mask(mask[i], w[i], base_index + static_cast<uint32_t>(i), threshold); }
}

}  // namespace

// --- launchers

void prune_histogram(uint32_t* counts, const float* w, const float* mask, int64_t n, uint32_t base_index, int pass,
                     const PruneKey* prefix, StreamRef stream, int grid_limit) {
  if (n == 0) return;
  launch("prune_histogram_kernel", prune_histogram_kernel, grid_for(n, kPruneBlock, grid_limit), kPruneBlock, stream,
         counts, w, mask, n, base_index, pass, prefix);
}

void prune_select_bin(uint32_t* counts, PruneKey* prefix, int64_t* state, int pass, StreamRef stream) {
  launch("prune_select_bin_kernel", prune_select_bin_kernel, 1, 1, stream, counts, prefix, state, pass);
}

void prune_apply(float* mask, const float* w, int64_t n, uint32_t base_index, PruneKey threshold, StreamRef stream,
                 int grid_limit) {
  if (n == 0) return;
  launch("prune_apply_kernel", prune_apply_kernel, grid_for(n, kPruneBlock, grid_limit), kPruneBlock, stream, mask, w,
         n, base_index, threshold);
}

}  // namespace bmc::BMC_KNS
