// Launchers for kernels/adam.cu.
#pragma once

#include <cstdint>

#include "kernels/adam.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// w, m, v, vmax (n elements) updated in place from g.
void adam(float* w, float* m, float* v, float* vmax, const float* g, int64_t n, AdamHyper hyper, StreamRef stream,
          int grid_limit = 0);

}  // namespace bmc::BMC_KNS
