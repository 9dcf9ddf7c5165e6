// Waits for a device's queued work so a benchmark iteration times the op, not its launch.
#pragma once

#include "core/device.h"
#if BMC_HAS_CUDA
#include "core/cuda_context.h"
#endif

namespace bmc::bench {

inline void sync(Device device) {
#if BMC_HAS_CUDA
  if (device.is_cuda()) cuda::synchronize(device);
#else
  (void)device;
#endif
}

}  // namespace bmc::bench
