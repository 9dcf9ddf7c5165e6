// Host<->device and device<->device copies for Tensor, on the destination (or source) device's
// stream. A copy into host memory synchronises that stream so the bytes are there on return; a
// copy from pageable host memory does too (CUDA stages it), which is why per-step uploads go
// through core/pinned_uploader.h instead.
#include <cuda_runtime_api.h>

#include "core/cuda_context.h"
#include "core/tensor.h"

namespace bmc {

void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  const Device on = dst_device.is_cuda() ? dst_device : src_device;
  cuda::Context& ctx = cuda::context(on);
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device != src_device) {
    // Events order the copy both ways without the host waiting: after the work queued on the
    // source's stream (which wrote the bytes), and before the source's later work (which may
    // reuse the bytes once the pool has them back).
    cuda::Context& src_ctx = cuda::context(src_device);
    const cuda::Event written = cuda::make_event(), read = cuda::make_event();
    BMC_CUDA_CHECK(cudaEventRecord(written.get(), src_ctx.stream.get()));
    BMC_CUDA_CHECK(cudaStreamWaitEvent(ctx.stream.get(), written.get(), 0));
    BMC_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, ctx.stream));
    BMC_CUDA_CHECK(cudaEventRecord(read.get(), ctx.stream.get()));
    BMC_CUDA_CHECK(cudaStreamWaitEvent(src_ctx.stream.get(), read.get(), 0));
  } else {
    BMC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, ctx.stream));
  }
  if (dst_device.is_cpu() || src_device.is_cpu()) BMC_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
}

void cuda_zero_bytes(void* dst, Device device, size_t bytes) {
  BMC_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, cuda::context(device).stream));
}

}  // namespace bmc
