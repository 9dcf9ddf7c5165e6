// Host<->device and device<->device copies for Tensor, on the destination (or source) device's
// stream. A copy into host memory synchronises that stream so the bytes are there on return.
#include <cuda_runtime_api.h>

#include "core/cuda_context.h"
#include "core/tensor.h"

namespace bmc {

void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  const Device on = dst_device.is_cuda() ? dst_device : src_device;
  cuda::Context& ctx = cuda::context(on);
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device != src_device) {
    // Order against work already queued on the source device before the peer copy.
    cuda::synchronize(src_device);
    BMC_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, ctx.stream));
  } else {
    BMC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, ctx.stream));
  }
  if (dst_device.is_cpu() || src_device.is_cpu()) BMC_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
}

void cuda_zero_bytes(void* dst, Device device, size_t bytes) {
  BMC_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, cuda::context(device).stream));
}

}  // namespace bmc
