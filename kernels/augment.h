// Launchers for kernels/augment.cu (see there and kernels/augment.cuh for the math).
#pragma once

#include <cstdint>

#include "kernels/augment.cuh"
#include "kernels/stream.h"

namespace bmc::BMC_KNS {

// x[b] = augment(images[indices[b]]), y[b] = labels[indices[b]] for b < batch; sample b has epoch
// position first_position + b. images: (N, C, H, W) u8, x: (batch, C, H, W) f32.
struct AugmentBatchArgs {
  float* x;
  int32_t* y;
  const uint8_t* images;
  const int32_t* labels;
  const int64_t* indices;
  int64_t batch, channels, height, width;
  uint64_t seed;
  uint32_t epoch;
  uint64_t first_position;
  int pad;
  bool crop_flip;
  AugmentNorm norm;
};

void augment_batch(const AugmentBatchArgs& args, StreamRef stream, int grid_limit = 0);

}  // namespace bmc::BMC_KNS
