// Launchers for kernels/bias.cu (see there for the math).
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// y[o, c, i] += b[c] for y viewed as (outer, channels, inner).
void add_channel_bias(float* y, const float* b, int64_t outer, int64_t channels, int64_t inner,
                      StreamRef stream, int grid_limit = 0);
// db[c] += sum over (o, i) of dy[o, c, i]; one block per channel, a fixed-order tree reduction.
void channel_bias_grad(float* db, const float* dy, int64_t outer, int64_t channels, int64_t inner,
                       StreamRef stream);

}  // namespace bmc::BMC_KNS
