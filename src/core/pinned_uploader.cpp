#include "core/pinned_uploader.h"

#include <cstring>

#if BMC_HAS_CUDA
#include <cuda_runtime_api.h>

#include "core/cuda_check.h"
#include "core/cuda_context.h"
#endif

namespace bmc {

PinnedUploader::~PinnedUploader() {
#if BMC_HAS_CUDA
  for (Slot& s : slots_) {
    // Destructors never throw: failures are reported, not raised.
    if (s.event) {
      BMC_CUDA_WARN(cudaEventSynchronize(static_cast<cudaEvent_t>(s.event)));
      BMC_CUDA_WARN(cudaEventDestroy(static_cast<cudaEvent_t>(s.event)));
    }
    if (s.host) BMC_CUDA_WARN(cudaFreeHost(s.host));
  }
#endif
}

void PinnedUploader::upload(const Tensor& src, Tensor& dst) {
  BMC_CHECK(src.device().is_cpu(), "PinnedUploader: the source must be a CPU tensor, got ", src.describe());
  if (!dst.defined() || dst.shape() != src.shape() || dst.dtype() != src.dtype() || dst.device() != device_)
    dst = Tensor(src.shape(), src.dtype(), device_);
#if BMC_HAS_CUDA
  if (device_.is_cuda()) {
    cuda::Context& ctx = cuda::context(device_);
    Slot& s = slots_[next_];
    next_ = (next_ + 1) % slots_.size();
    if (s.event) BMC_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(s.event)));
    if (s.bytes < src.nbytes()) {
      if (s.host) BMC_CUDA_CHECK(cudaFreeHost(s.host));
      s.host = nullptr;
      BMC_CUDA_CHECK(cudaHostAlloc(&s.host, src.nbytes(), cudaHostAllocDefault));
      s.bytes = src.nbytes();
    }
    if (!s.event) {
      cudaEvent_t e = nullptr;
      BMC_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      s.event = e;
    }
    std::memcpy(s.host, src.raw(), src.nbytes());
    BMC_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), s.host, src.nbytes(), cudaMemcpyHostToDevice, ctx.stream));
    BMC_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(s.event), ctx.stream));
    return;
  }
#endif
  dst.copy_from(src);
}

}  // namespace bmc
