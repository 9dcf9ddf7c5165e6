// The CUDA implementations behind compress/prune/magnitude.h's dispatch (defined in magnitude_cuda.cpp, built
// only with CUDA): one declaration, shared by the dispatching file and the definitions.
#pragma once

#include "compress/prune/magnitude.h"

namespace bmc::compress {

PruneKey find_prune_threshold_cuda(const std::vector<PruneSegment>& segments, int64_t rank);
void prune_apply_cuda(std::vector<PruneSegment>& segments, PruneKey threshold);

}  // namespace bmc::compress
