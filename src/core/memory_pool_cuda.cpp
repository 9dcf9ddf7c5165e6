// The CUDA device's raw allocator behind MemoryPool (built only with CUDA).
#include <cuda_runtime_api.h>

#include "core/cuda_check.h"
#include "core/memory_pool.h"

namespace bmc {
namespace {

class CudaAllocator final : public RawAllocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}

  void* allocate(size_t bytes) override {
    BMC_CUDA_CHECK(cudaSetDevice(device_));
    void* ptr = nullptr;
    const cudaError_t status = cudaMalloc(&ptr, bytes);
    // A failed allocation also leaves cudaErrorMemoryAllocation as the runtime's last error; read
    // it back here, or the next launch check would report it against an unrelated kernel (the
    // pool frees its cache and retries after this throws).
    if (status != cudaSuccess) (void)cudaGetLastError();
    BMC_CUDA_CHECK(status);
    return ptr;
  }

  void release(void* ptr) noexcept override { BMC_CUDA_WARN(cudaFree(ptr)); }

 private:
  int device_;
};

}  // namespace

std::unique_ptr<RawAllocator> make_cuda_allocator(int device) {
  return std::make_unique<CudaAllocator>(device);
}

}  // namespace bmc
