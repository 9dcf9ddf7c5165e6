// Per-channel bias: the layout shared by linear (outer = N, inner = 1) and conv2d (outer = N,
// inner = H*W) outputs, viewed as (outer, C, inner).
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

// Channel of flat element i in an (outer, channels, inner) tensor.
BMC_HD int64_t channel_of(int64_t i, int64_t channels, int64_t inner) { return (i / inner) % channels; }

}  // namespace bmc
