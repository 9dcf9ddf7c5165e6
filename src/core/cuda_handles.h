// RAII owners for every CUDA, cuBLAS and cuDNN handle and descriptor bmc creates. Each destroy
// call is checked (warning, never throwing, since destructors may run during unwinding).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <utility>

#include "core/cuda_check.h"
#include "core/cuda_lib_check.h"

namespace bmc::cuda {

// Owns one handle of type H, destroyed by Destroy::operator()(H).
template <class H, class Destroy>
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(H handle) : handle_(handle) {}
  ~UniqueHandle() { reset(); }
  UniqueHandle(UniqueHandle&& o) noexcept : handle_(std::exchange(o.handle_, H{})) {}
  UniqueHandle& operator=(UniqueHandle&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, H{});
    }
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;

  H get() const { return handle_; }
  operator H() const { return handle_; }  // NOLINT: handles are passed straight to the libraries
  void reset() {
    if (handle_) Destroy{}(handle_);
    handle_ = H{};
  }

 private:
  H handle_{};
};

struct StreamDestroy { void operator()(cudaStream_t h) const { BMC_CUDA_WARN(cudaStreamDestroy(h)); } };
struct EventDestroy { void operator()(cudaEvent_t h) const { BMC_CUDA_WARN(cudaEventDestroy(h)); } };
struct CublasDestroy { void operator()(cublasHandle_t h) const { BMC_CUBLAS_WARN(cublasDestroy(h)); } };
struct CudnnDestroy { void operator()(cudnnHandle_t h) const { BMC_CUDNN_WARN(cudnnDestroy(h)); } };
struct TensorDescDestroy {
  void operator()(cudnnTensorDescriptor_t h) const { BMC_CUDNN_WARN(cudnnDestroyTensorDescriptor(h)); }
};
struct FilterDescDestroy {
  void operator()(cudnnFilterDescriptor_t h) const { BMC_CUDNN_WARN(cudnnDestroyFilterDescriptor(h)); }
};
struct ConvDescDestroy {
  void operator()(cudnnConvolutionDescriptor_t h) const {
    BMC_CUDNN_WARN(cudnnDestroyConvolutionDescriptor(h));
  }
};
struct PoolingDescDestroy {
  void operator()(cudnnPoolingDescriptor_t h) const { BMC_CUDNN_WARN(cudnnDestroyPoolingDescriptor(h)); }
};
struct ActivationDescDestroy {
  void operator()(cudnnActivationDescriptor_t h) const {
    BMC_CUDNN_WARN(cudnnDestroyActivationDescriptor(h));
  }
};

using Stream = UniqueHandle<cudaStream_t, StreamDestroy>;
using Event = UniqueHandle<cudaEvent_t, EventDestroy>;
using CublasHandle = UniqueHandle<cublasHandle_t, CublasDestroy>;
using CudnnHandle = UniqueHandle<cudnnHandle_t, CudnnDestroy>;
using TensorDescHandle = UniqueHandle<cudnnTensorDescriptor_t, TensorDescDestroy>;
using FilterDescHandle = UniqueHandle<cudnnFilterDescriptor_t, FilterDescDestroy>;
using ConvDescHandle = UniqueHandle<cudnnConvolutionDescriptor_t, ConvDescDestroy>;
using PoolingDescHandle = UniqueHandle<cudnnPoolingDescriptor_t, PoolingDescDestroy>;
using ActivationDescHandle = UniqueHandle<cudnnActivationDescriptor_t, ActivationDescDestroy>;

Stream make_stream();
Event make_event();
// An f32 NCHW tensor descriptor; dims beyond the given ones are 1.
TensorDescHandle make_tensor_desc(int n, int c, int h, int w);
FilterDescHandle make_filter_desc(int k, int c, int r, int s);

}  // namespace bmc::cuda
