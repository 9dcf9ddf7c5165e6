// Magnitude pruning over segments of a flat parameter arena (one segment per prunable layer):
// remove exactly `count` of the currently unpruned weights, smallest |w| first, ties to the lower
// arena index (kernels/prune.cuh states the rule). Pruned weights never come back.
// CPU: one histogram pass over the 16 most significant bits of |w| plus a pass collecting the one
// selected bin, then an nth_element on those few keys. CUDA: four radix-select histogram passes on
// the device (kernels/prune.cu). Both find the same integer key, so masks agree bitwise.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernels/prune.cuh"

namespace bmc::compress {

struct PruneSegment {
  Tensor weights;      // f32 view of a layer's weights
  Tensor mask;         // f32 0/1 view of its mask, same shape and device
  int64_t base_index;  // arena index of the first element (unique keys across segments)
};

int64_t count_unpruned(const std::vector<PruneSegment>& segments);
// The key of the count-th smallest unpruned weight (1 <= count <= unpruned).
PruneKey find_prune_threshold(const std::vector<PruneSegment>& segments, int64_t count);
// Removes exactly `count` unpruned weights (0 <= count <= unpruned); masks updated in place.
void prune_smallest(std::vector<PruneSegment>& segments, int64_t count);

}  // namespace bmc::compress
