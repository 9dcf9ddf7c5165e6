// Fake quantization on CUDA: the per-channel parameters are uploaded through pinned staging (the
// host does not wait; a QAT step makes two uploads per quantized layer) into a small pooled
// buffer per call, and our kernel applies the shared core (kernels/fake_quant.cu).
#include <cstring>
#include <map>
#include <memory>

#include "core/cuda_context.h"
#include "core/pinned_uploader.h"
#include "kernels/fake_quant.h"
#include "ops/fake_quant_cuda.h"

namespace bmc::ops {
namespace {

// Enough slots for every quantized layer of a ResNet-50 step, forward and backward.
constexpr int kParamUploadSlots = 256;

Tensor upload_params(const std::vector<QuantParams>& params, Device device) {
  static_assert(sizeof(QuantParams) == 4 * sizeof(float), "QuantParams is four packed floats");
  // One per device (ops run on one thread), never destroyed: at exit the CUDA runtime may already
  // be gone, and the process returns the pinned memory anyway.
  static auto* uploaders = new std::map<int, std::unique_ptr<PinnedUploader>>;
  auto& uploader = (*uploaders)[device.index];
  if (!uploader) uploader = std::make_unique<PinnedUploader>(device, kParamUploadSlots);
  Tensor host({static_cast<int64_t>(params.size()) * 4}, DType::F32);
  std::memcpy(host.raw(), params.data(), params.size() * sizeof(QuantParams));
  Tensor t;
  uploader->upload(host, t);
  return t;
}

}  // namespace

void fake_quant_forward_cuda(Tensor& y, const Tensor& x, const std::vector<QuantParams>& params, ChannelLayout l) {
  const Tensor p = upload_params(params, x.device());
  kernels::fake_quant_forward(y.data<float>(), x.data<float>(), static_cast<const QuantParams*>(p.raw()), l.outer,
                              l.channels, l.inner, cuda::context(x.device()).stream);
}

void fake_quant_backward_cuda(Tensor& dx, const Tensor& dy, const Tensor& x, const std::vector<QuantParams>& params,
                              ChannelLayout l) {
  const Tensor p = upload_params(params, x.device());
  kernels::fake_quant_backward(dx.data<float>(), dy.data<float>(), x.data<float>(),
                               static_cast<const QuantParams*>(p.raw()), l.outer, l.channels, l.inner,
                               cuda::context(x.device()).stream);
}

void requantize_to_grid_cuda(Tensor& y, const Tensor& x, const QuantParams& in, float ratio, float acc_lo,
                             float acc_hi, float out_scale) {
  kernels::requantize_to_grid(y.data<float>(), x.data<float>(), in, ratio, acc_lo, acc_hi, out_scale, x.numel(),
                              cuda::context(x.device()).stream);
}

}  // namespace bmc::ops
