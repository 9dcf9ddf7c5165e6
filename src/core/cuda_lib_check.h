// Check macros for cuBLAS and cuDNN status codes (see cuda_check.h for the runtime ones).
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include "core/error.h"

namespace bmc::detail {

[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* statement, const char* file,
                                     int line, const char* function);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* statement, const char* file,
                                    int line, const char* function);
void warn_cublas_error(cublasStatus_t status, const char* statement, const char* file, int line);
void warn_cudnn_error(cudnnStatus_t status, const char* statement, const char* file, int line);

}  // namespace bmc::detail

#define BMC_CUBLAS_CHECK(expr)                                                                \
  do {                                                                                        \
    const cublasStatus_t bmc_status_ = (expr);                                                \
    if (bmc_status_ != CUBLAS_STATUS_SUCCESS)                                                 \
      ::bmc::detail::throw_cublas_error(bmc_status_, #expr, __FILE__, __LINE__, __func__);    \
  } while (0)

#define BMC_CUDNN_CHECK(expr)                                                                 \
  do {                                                                                        \
    const cudnnStatus_t bmc_status_ = (expr);                                                 \
    if (bmc_status_ != CUDNN_STATUS_SUCCESS)                                                  \
      ::bmc::detail::throw_cudnn_error(bmc_status_, #expr, __FILE__, __LINE__, __func__);     \
  } while (0)

#define BMC_CUBLAS_WARN(expr)                                                    \
  do {                                                                           \
    const cublasStatus_t bmc_status_ = (expr);                                   \
    if (bmc_status_ != CUBLAS_STATUS_SUCCESS)                                    \
      ::bmc::detail::warn_cublas_error(bmc_status_, #expr, __FILE__, __LINE__);  \
  } while (0)

#define BMC_CUDNN_WARN(expr)                                                     \
  do {                                                                           \
    const cudnnStatus_t bmc_status_ = (expr);                                    \
    if (bmc_status_ != CUDNN_STATUS_SUCCESS)                                     \
      ::bmc::detail::warn_cudnn_error(bmc_status_, #expr, __FILE__, __LINE__);   \
  } while (0)
