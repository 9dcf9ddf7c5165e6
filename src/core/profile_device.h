// The device side of core/profile.h: NVTX ranges and CUDA event marks (profile_cuda.cpp), or
// nothing in a CPU-only build (profile_device.cpp).
#pragma once

#include "core/device.h"

namespace bmc::profile {

struct DeviceMark {
  void* event = nullptr;  // a cudaEvent_t recorded on the device's stream
};

void nvtx_push(const char* name);
void nvtx_pop();
DeviceMark record_mark(Device device);
// Waits for both events; their distance in ms.
double mark_elapsed_ms(const DeviceMark& start, const DeviceMark& end);
void release_mark(DeviceMark& mark);

}  // namespace bmc::profile
