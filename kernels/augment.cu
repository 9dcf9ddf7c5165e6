// Gather + augment + normalise one batch from a device-resident u8 dataset: one thread per output
// element recomputes its sample's Philox draw (cheap, and it keeps results independent of the
// grid). Moves 1 byte read + 4 bytes written per output element, plus the labels.
#include "kernels/augment.h"
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"

namespace bmc::BMC_KNS {
namespace {

constexpr int kAugmentBlock = 256;

// --- kernels

__global__ void augment_batch_kernel(AugmentBatchArgs a) {
  const int64_t per_sample = a.channels * a.height * a.width;
  const int64_t plane = a.height * a.width;
  BMC_GRID_STRIDE_LOOP(i, a.batch * per_sample) {
    const int64_t b = i / per_sample, rem = i % per_sample;
    const int64_t c = rem / plane, y = (rem % plane) / a.width, x = rem % a.width;
    const int64_t src = a.indices[b];
    const SampleTransform t =
        sample_transform(a.seed, a.epoch, a.first_position + static_cast<uint64_t>(b), a.pad, a.crop_flip);
    a.x[i] = augmented_pixel(a.images + src * per_sample, c, y, x, a.height, a.width, t, a.norm);
    if (rem == 0) a.y[b] = a.labels[src];
  }
}

}  // namespace

// --- launchers

void augment_batch(const AugmentBatchArgs& args, StreamRef stream, int grid_limit) {
  const int64_t n = args.batch * args.channels * args.height * args.width;
  if (n == 0) return;
  launch("augment_batch_kernel", augment_batch_kernel, grid_for(n, kAugmentBlock, grid_limit), kAugmentBlock, stream,
         args);
}

}  // namespace bmc::BMC_KNS
