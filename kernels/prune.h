// Launchers for kernels/prune.cu (radix selection of the pruning threshold, mask update).
#pragma once

#include <cstdint>

#include "kernels/prune.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// counts[kPruneBins] += histogram of digit `pass` over the unpruned weights of one segment whose
// earlier digits equal *prefix (device memory, written by prune_select_bin). Segment elements have
// arena indices base_index + i.
void prune_histogram(uint32_t* counts, const float* w, const float* mask, int64_t n, uint32_t base_index, int pass,
                     const PruneKey* prefix, StreamRef stream, int grid_limit = 0);
// One thread: finds the bin holding the state[0]-th smallest (0-based) candidate, records the
// digit in *prefix and the rank within the bin in state[0], then clears counts for the next pass.
// Pass 0 also stores the number of candidates in state[1], so the caller can check the rank.
void prune_select_bin(uint32_t* counts, PruneKey* prefix, int64_t* state, int pass, StreamRef stream);
// mask = pruned_mask(mask, w, index, threshold) over one segment.
void prune_apply(float* mask, const float* w, int64_t n, uint32_t base_index, PruneKey threshold, StreamRef stream,
                 int grid_limit = 0);

}  // namespace bmc::BMC_KNS
