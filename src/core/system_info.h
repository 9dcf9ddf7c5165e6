// What this build and machine offer, for `bmc info` and benchmark headers.
#pragma once

#include <string>
#include <vector>

namespace bmc {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  size_t memory_bytes = 0;
};

struct SystemInfo {
  bool cuda_compiled = false;
  std::string cuda_unavailable_reason;  // empty when usable
  std::string cuda_runtime_version, cuda_driver_version, cudnn_version, cublas_version;
  std::vector<CudaDeviceInfo> devices;
  int cpu_threads = 0;
  std::string blas;
};

SystemInfo system_info();

}  // namespace bmc
