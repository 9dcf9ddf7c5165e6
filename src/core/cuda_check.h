// Check macros for every CUDA runtime, cuBLAS and cuDNN return code. Each evaluates its argument
// once and throws one bmc::Error naming the statement, file:line, device and the library's message.
// Only included by translation units built with the CUDA headers (BMC_HAS_CUDA).
#pragma once

#include <cuda_runtime_api.h>

#include "core/error.h"

namespace bmc::detail {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* statement, const char* file,
                                   int line, const char* function);
// Destructors must not throw: report and carry on (the process may be unwinding already).
void warn_cuda_error(cudaError_t status, const char* statement, const char* file, int line);
// Launch check: cudaGetLastError, plus a device synchronize when BMC_CUDA_SYNC=1 so an
// asynchronous fault is blamed on the launch that caused it.
void check_cuda_launch(const char* what, const char* file, int line, const char* function);
// BMC_CUDA_SYNC=1: every launch check waits for the device.
bool sync_after_launch();

}  // namespace bmc::detail

#define BMC_CUDA_CHECK(expr)                                                                  \
  do {                                                                                        \
    const cudaError_t bmc_status_ = (expr);                                                   \
    if (bmc_status_ != cudaSuccess)                                                           \
      ::bmc::detail::throw_cuda_error(bmc_status_, #expr, __FILE__, __LINE__, __func__);      \
  } while (0)

#define BMC_CUDA_WARN(expr)                                                      \
  do {                                                                           \
    const cudaError_t bmc_status_ = (expr);                                      \
    if (bmc_status_ != cudaSuccess)                                              \
      ::bmc::detail::warn_cuda_error(bmc_status_, #expr, __FILE__, __LINE__);    \
  } while (0)

#define BMC_CUDA_CHECK_LAUNCH(what) \
  ::bmc::detail::check_cuda_launch(what, __FILE__, __LINE__, __func__)
