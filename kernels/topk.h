// Launchers for kernels/topk.cu (see there for the math).
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// correct[0] = number of rows of logits (n, k) whose label is among the top_k largest logits.
void topk_correct(int32_t* correct, const float* logits, const int32_t* labels, int64_t n, int64_t k,
                  int top_k, StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
