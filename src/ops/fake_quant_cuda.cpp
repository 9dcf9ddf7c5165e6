// Fake quantization on CUDA: the per-channel parameters are uploaded (one small pooled buffer per
// call) and our kernel applies the shared core (kernels/fake_quant.cu).
#include "core/cuda_context.h"
#include "kernels/fake_quant.h"
#include "ops/fake_quant_cuda.h"

namespace bmc::ops {
namespace {

Tensor upload_params(const std::vector<QuantParams>& params, Device device) {
  static_assert(sizeof(QuantParams) == 4 * sizeof(float), "QuantParams is four packed floats");
  Tensor t({static_cast<int64_t>(params.size()) * 4}, DType::F32, device);
  copy_bytes(t.raw(), device, params.data(), Device::cpu(), params.size() * sizeof(QuantParams));
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
