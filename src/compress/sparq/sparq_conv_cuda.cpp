#include "compress/sparq/sparq_conv_cuda.h"

#include "core/cuda_context.h"
#include "kernels/sparq.h"

namespace bmc::compress {
namespace {

template <class T>
Tensor upload(const std::vector<T>& v, const Shape& shape, Device device) {
  return Tensor::from_vector(v, shape, device);
}

}  // namespace

const char* sparq_cuda_kernel_name(SparqCudaKernel k) {
  switch (k) {
    case SparqCudaKernel::Dense: return "cuda mma.sync int8";
    case SparqCudaKernel::Sparse: return "cuda mma.sp 2:4 int8";
    case SparqCudaKernel::Stc: return "cuda stc 2:4";
  }
  return "?";
}

SparqDeviceWeights upload_sparq_weights(const SparqOperands& ops, const std::vector<float>& steps,
                                        const std::vector<float>& bias, Device device) {
  SparqDeviceWeights w;
  w.o = ops.o;
  w.k = ops.k;
  w.op = ops.op;
  w.kp = ops.kp;
  w.dense = upload(ops.dense, {ops.op, ops.kp}, device);
  if (ops.sparse) {
    w.values = upload(ops.sparse->values, {ops.op, ops.kp / 2}, device);
    std::vector<int32_t> words(ops.sparse->metadata.begin(), ops.sparse->metadata.end());
    w.metadata = upload(words, {ops.op, ops.kp / 32}, device);
  }
  w.steps = upload(steps, {ops.o}, device);
  if (!bias.empty()) w.bias = upload(bias, {ops.o}, device);
  return w;
}

Tensor sparq_conv_forward_cuda(const Tensor& x, const SparqDeviceWeights& w, int64_t kh, int64_t kw,
                               const ops::Conv2dParams& p, float step_x, int bits, SparqMode mode,
                               const BitWindow& window, SparqCudaKernel kernel, const std::string& name) {
  BMC_CHECK(p.stride_h == p.stride_w && p.pad_h == p.pad_w, name, ": the CUDA SPARQ path takes square strides and padding");
  kernels::SparqConvShape s;
  s.n = x.dim(0);
  s.c = x.dim(1);
  s.h = x.dim(2);
  s.w = x.dim(3);
  s.kh = kh;
  s.kw = kw;
  s.stride = p.stride_h;
  s.pad = p.pad_h;
  s.oh = (s.h + 2 * s.pad - kh) / s.stride + 1;
  s.ow = (s.w + 2 * s.pad - kw) / s.stride + 1;
  s.o = w.o;
  BMC_CHECK(s.k() == w.k, name, ": input channels do not match the weights");
  const int64_t mp = sparq_padded_pixels(s.m());
  const Device device = x.device();
  const StreamRef stream = cuda::context(device).stream;
  Tensor a({mp, w.kp}, DType::U8, device);
  Tensor negative = Tensor::zeros({1}, DType::I32, device);
  const auto code_mode = mode == SparqMode::Window  ? kernels::SparqCodeMode::Window
                         : mode == SparqMode::Pairs ? kernels::SparqCodeMode::Pairs
                                                    : kernels::SparqCodeMode::Exact;
  kernels::sparq_codes(a.data<uint8_t>(), x.data<float>(), s, mp, w.kp, step_x, bits, code_mode, window,
                       negative.data<int32_t>(), stream);
  Tensor y({s.n, s.o, s.oh, s.ow}, DType::F32, device);
  const float* bias = w.bias.defined() ? w.bias.data<float>() : nullptr;
  const auto* meta = w.metadata.defined() ? reinterpret_cast<const uint32_t*>(w.metadata.data<int32_t>()) : nullptr;
  switch (kernel) {
    case SparqCudaKernel::Dense:
      kernels::sparq_gemm_dense(y.data<float>(), w.dense.data<int8_t>(), a.data<uint8_t>(), s, w.op, mp, w.kp, step_x,
                                w.steps.data<float>(), bias, stream);
      break;
    case SparqCudaKernel::Sparse:
      BMC_CHECK(w.sparse(), name, ": the 2:4 kernel needs 2:4 weights");
      kernels::sparq_gemm_sparse(y.data<float>(), w.values.data<int8_t>(), meta, a.data<uint8_t>(), s, w.op, mp, w.kp,
                                 step_x, w.steps.data<float>(), bias, stream);
      break;
    case SparqCudaKernel::Stc:
      BMC_CHECK(w.sparse(), name, ": STC needs 2:4 weights");
      kernels::sparq_gemm_stc(y.data<float>(), w.values.data<int8_t>(), meta, a.data<uint8_t>(), s, w.kp, step_x,
                              w.steps.data<float>(), bias, window, stream);
      break;
  }
  BMC_CHECK(negative.to_vector<int32_t>()[0] == 0, name,
            ": SPARQ quantizes unsigned activations; the input holds a negative or NaN value (signed activations are "
            "not supported)");
  return y;
}

}  // namespace bmc::compress
