#include "core/device.h"

#include "core/error.h"

#if BMC_HAS_CUDA
#include <cuda_runtime_api.h>
#endif

namespace bmc {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

bool cuda_compiled() { return BMC_HAS_CUDA != 0; }

namespace {

struct CudaProbe {
  int count = 0;
  std::string reason;
};

const CudaProbe& probe() {
  static const CudaProbe result = [] {
    CudaProbe p;
#if BMC_HAS_CUDA
    cudaError_t err = cudaGetDeviceCount(&p.count);
    if (err != cudaSuccess) {
      p.count = 0;
      p.reason = std::string("no usable CUDA device (") + cudaGetErrorName(err) + ": " +
                 cudaGetErrorString(err) + ")";
      cudaGetLastError();  // clear the non-sticky error so later probes start clean
    } else if (p.count == 0) {
      p.reason = "no CUDA device found";
    }
#else
    p.reason = "bmc was built without CUDA (nvcc was not found at build time)";
#endif
    return p;
  }();
  return result;
}

}  // namespace

int cuda_device_count() { return probe().count; }

std::string cuda_unavailable_reason() { return probe().reason; }

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "auto") return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (text.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(text.substr(5), &used);
        BMC_CHECK(used == text.size() - 5, "bad device '", text, "'");
      } catch (const std::logic_error&) {
        BMC_FAIL("bad device '", text, "': expected cpu, cuda, cuda:N or auto");
      }
    }
    BMC_CHECK(cuda_device_count() > index, "device '", text,
              "' is not available: ", cuda_unavailable_reason().empty()
                                          ? "only " + std::to_string(cuda_device_count()) + " CUDA device(s)"
                                          : cuda_unavailable_reason());
    return Device::cuda(index);
  }
  BMC_FAIL("bad device '", text, "': expected cpu, cuda, cuda:N or auto");
}

}  // namespace bmc
