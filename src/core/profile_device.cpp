// A CPU-only build has no NVTX and no device marks (profile_cuda.cpp has them).
#include "core/profile_device.h"

#if !BMC_HAS_CUDA
namespace bmc::profile {

void nvtx_push(const char*) {}
void nvtx_pop() {}
DeviceMark record_mark(Device) { return {}; }
double mark_elapsed_ms(const DeviceMark&, const DeviceMark&) { return 0; }
void release_mark(DeviceMark&) {}

}  // namespace bmc::profile
#endif
