#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include "core/cuda_check.h"
#include "core/cuda_context.h"
#include "core/profile_device.h"

namespace bmc::profile {

void nvtx_push(const char* name) { nvtxRangePushA(name); }
void nvtx_pop() { nvtxRangePop(); }

DeviceMark record_mark(Device device) {
  cudaEvent_t event = nullptr;
  BMC_CUDA_CHECK(cudaEventCreate(&event));
  BMC_CUDA_CHECK(cudaEventRecord(event, cuda::context(device).stream.get()));
  return {event};
}

double mark_elapsed_ms(const DeviceMark& start, const DeviceMark& end) {
  if (!start.event || !end.event) return 0;
  BMC_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(end.event)));
  float ms = 0;
  BMC_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start.event), static_cast<cudaEvent_t>(end.event)));
  return ms;
}

void release_mark(DeviceMark& mark) {
  if (mark.event) BMC_CUDA_WARN(cudaEventDestroy(static_cast<cudaEvent_t>(mark.event)));
  mark.event = nullptr;
}

}  // namespace bmc::profile
