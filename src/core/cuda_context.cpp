#include "core/cuda_context.h"

#include <map>
#include <memory>
#include <mutex>

namespace bmc::cuda {

Stream make_stream() {
  cudaStream_t s = nullptr;
  BMC_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return Stream(s);
}

Event make_event() {
  cudaEvent_t e = nullptr;
  BMC_CUDA_CHECK(cudaEventCreate(&e));
  return Event(e);
}

TensorDescHandle make_tensor_desc(int n, int c, int h, int w) {
  cudnnTensorDescriptor_t d = nullptr;
  BMC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
  TensorDescHandle handle(d);
  BMC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  return handle;
}

FilterDescHandle make_filter_desc(int k, int c, int r, int s) {
  cudnnFilterDescriptor_t d = nullptr;
  BMC_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d));
  FilterDescHandle handle(d);
  BMC_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, r, s));
  return handle;
}

Context& context(Device device) {
  BMC_CHECK(device.is_cuda(), "cuda::context called for ", device.str());
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<Context>> contexts;
  std::lock_guard<std::mutex> lock(mutex);
  BMC_CUDA_CHECK(cudaSetDevice(device.index));
  auto& ctx = contexts[device.index];
  if (!ctx) {
    auto fresh = std::make_unique<Context>();
    fresh->device = device.index;
    fresh->stream = make_stream();
    cublasHandle_t blas = nullptr;
    BMC_CUBLAS_CHECK(cublasCreate(&blas));
    fresh->cublas = CublasHandle(blas);
    BMC_CUBLAS_CHECK(cublasSetStream(blas, fresh->stream));
    // Parity with the CPU oracle needs full-precision f32 GEMMs (no TF32).
    BMC_CUBLAS_CHECK(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));
    cudnnHandle_t dnn = nullptr;
    BMC_CUDNN_CHECK(cudnnCreate(&dnn));
    fresh->cudnn = CudnnHandle(dnn);
    BMC_CUDNN_CHECK(cudnnSetStream(dnn, fresh->stream));
    ctx = std::move(fresh);
  }
  return *ctx;
}

void synchronize(Device device) { BMC_CUDA_CHECK(cudaStreamSynchronize(context(device).stream)); }

}  // namespace bmc::cuda
