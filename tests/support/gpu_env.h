// GPU availability for tests. GPU suites are named *Gpu* and start with BMC_REQUIRE_CUDA_DEVICE():
// without a device they skip with the reason (counted and printed at the end of the run), and
// with BMC_REQUIRE_GPU=1 (set by `make gpu-check`) a missing device is a failure instead.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/device.h"

namespace bmc::test {

bool gpu_required();

}  // namespace bmc::test

#define BMC_REQUIRE_CUDA_DEVICE()                                                          \
  do {                                                                                     \
    if (::bmc::cuda_device_count() == 0) {                                                 \
      if (::bmc::test::gpu_required())                                                     \
        FAIL() << "BMC_REQUIRE_GPU=1 but no CUDA device: " << ::bmc::cuda_unavailable_reason(); \
      GTEST_SKIP() << "no CUDA device: " << ::bmc::cuda_unavailable_reason();              \
    }                                                                                      \
  } while (0)
