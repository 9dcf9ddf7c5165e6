// Launchers for kernels/sgd.cu.
#pragma once

#include <cstdint>

#include "kernels/sgd.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// One fused pass over a model's flat arena: w, m updated in place from g and mask (n elements).
void masked_sgd(float* w, float* m, const float* g, const float* mask, int64_t n, SgdHyper hyper,
                StreamRef stream, int grid_limit = 0);
// The unmasked update of a state tensor, clamped to [lo, hi] after it.
void clamped_sgd(float* w, float* m, const float* g, int64_t n, SgdHyper hyper, float lo, float hi,
                 StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
