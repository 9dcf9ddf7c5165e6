// Built only with CUDA. Formats CUDA, cuBLAS and cuDNN failures into bmc::Error.
#include "core/cuda_check.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/cuda_lib_check.h"
#include "core/log.h"

namespace bmc::detail {
namespace {

std::string current_device_text() {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) return "device ?";
  return "device " + std::to_string(device);
}

}  // namespace

bool sync_after_launch() {
  static const bool enabled = [] {
    const char* v = std::getenv("BMC_CUDA_SYNC");
    return v && std::string(v) == "1";
  }();
  return enabled;
}

void throw_cuda_error(cudaError_t status, const char* statement, const char* file, int line,
                      const char* function) {
  throw_error(concat("CUDA error ", cudaGetErrorName(status), ": ", cudaGetErrorString(status),
                     " (", current_device_text(), ")"),
              statement, file, line, function);
}

void warn_cuda_error(cudaError_t status, const char* statement, const char* file, int line) {
  log_warning(concat("CUDA error ", cudaGetErrorName(status), " in ", statement, " at ", file, ":",
                     line, " (ignored in a destructor)"));
}

void check_cuda_launch(const char* what, const char* file, int line, const char* function) {
  cudaError_t status = cudaGetLastError();
  if (status == cudaSuccess && sync_after_launch()) status = cudaDeviceSynchronize();
  if (status != cudaSuccess) throw_cuda_error(status, what, file, line, function);
}

void throw_cublas_error(cublasStatus_t status, const char* statement, const char* file, int line,
                        const char* function) {
  throw_error(concat("cuBLAS error ", cublasGetStatusName(status), ": ",
                     cublasGetStatusString(status), " (", current_device_text(), ")"),
              statement, file, line, function);
}

void throw_cudnn_error(cudnnStatus_t status, const char* statement, const char* file, int line,
                       const char* function) {
  char detail[512] = {0};
  cudnnGetLastErrorString(detail, sizeof(detail));
  std::string message = concat("cuDNN error ", cudnnGetErrorString(status), " (",
                               current_device_text(), ")");
  if (detail[0]) message += concat(": ", detail);
  throw_error(message, statement, file, line, function);
}

void warn_cublas_error(cublasStatus_t status, const char* statement, const char* file, int line) {
  log_warning(concat("cuBLAS error ", cublasGetStatusName(status), " in ", statement, " at ", file,
                     ":", line, " (ignored in a destructor)"));
}

void warn_cudnn_error(cudnnStatus_t status, const char* statement, const char* file, int line) {
  log_warning(concat("cuDNN error ", cudnnGetErrorString(status), " in ", statement, " at ", file,
                     ":", line, " (ignored in a destructor)"));
}

}  // namespace bmc::detail
