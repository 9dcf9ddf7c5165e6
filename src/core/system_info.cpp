#include "core/system_info.h"

#include <cblas.h>
#include <omp.h>

#include "core/device.h"
#include "core/error.h"

#if BMC_HAS_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#endif

namespace bmc {
namespace {

std::string dotted(int v, int major_div, int minor_div) {
  return detail::concat(v / major_div, ".", (v % major_div) / minor_div);
}

}  // namespace

SystemInfo system_info() {
  SystemInfo info;
  info.cuda_compiled = cuda_compiled();
  info.cuda_unavailable_reason = cuda_unavailable_reason();
  info.cpu_threads = omp_get_max_threads();
  info.blas = detail::concat(openblas_get_config(), " (", openblas_get_num_threads(), " threads)");
#if BMC_HAS_CUDA
  int runtime = 0, driver = 0;
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) info.cuda_runtime_version = dotted(runtime, 1000, 10);
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0)
    info.cuda_driver_version = dotted(driver, 1000, 10);
  else
    info.cuda_driver_version = "none";
  const size_t dnn = cudnnGetVersion();
  info.cudnn_version = detail::concat(dnn / 10000, ".", (dnn % 10000) / 100, ".", dnn % 100);
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  info.cublas_version = detail::concat(major, ".", minor, ".", patch);
  for (int i = 0; i < cuda_device_count(); ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    info.devices.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem});
  }
#endif
  return info;
}

}  // namespace bmc
