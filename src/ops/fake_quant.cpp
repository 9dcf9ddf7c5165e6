#include "ops/fake_quant.h"

#if BMC_HAS_CUDA
#include "ops/fake_quant_cuda.h"
#endif

#include <cmath>

#include "core/vector_loops.h"
#include "ops/check.h"

namespace bmc::ops {

ChannelLayout channel_layout(const Tensor& x, size_t n_params, int channel_axis, const char* op) {
  BMC_CHECK(n_params >= 1, op, ": no quantization parameters");
  ChannelLayout l;
  if (n_params == 1) {
    l.inner = x.numel();
    return l;
  }
  BMC_CHECK(channel_axis >= 0 && channel_axis < x.rank(), op, ": channel axis ", channel_axis, " out of range for ",
            x.describe());
  BMC_CHECK(static_cast<int64_t>(n_params) == x.dim(channel_axis), op, ": ", n_params,
            " per-channel parameter sets for ", x.dim(channel_axis), " channels (", x.describe(), ")");
  for (int d = 0; d < channel_axis; ++d) l.outer *= x.dim(d);
  l.channels = x.dim(channel_axis);
  for (int d = channel_axis + 1; d < x.rank(); ++d) l.inner *= x.dim(d);
  return l;
}

namespace {

void check_params(const char* op, const std::vector<QuantParams>& params) {
  for (const QuantParams& p : params)
    BMC_CHECK(p.scale > 0 && std::isfinite(p.scale) && p.qmin <= p.qmax, op, ": invalid quantization parameters (scale ",
              p.scale, ", range [", p.qmin, ", ", p.qmax, "])");
}

}  // namespace

BMC_VECTOR_LOOPS void fake_quant_forward(Tensor& y, const Tensor& x, const std::vector<QuantParams>& params, int channel_axis) {
  check_dtype("fake_quant_forward", "x", x, DType::F32);
  check_shape("fake_quant_forward", "y", y, x.shape());
  check_same_device("fake_quant_forward", {&y, &x});
  check_params("fake_quant_forward", params);
  const ChannelLayout l = channel_layout(x, params.size(), channel_axis, "fake_quant_forward");
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(fake_quant_forward_cuda(y, x, params, l));
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = x.numel();
  if (params.size() == 1) {
    const QuantParams p = params[0];
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) py[i] = fake_quant(px[i], p);
    return;
  }
  const int64_t blocks = l.outer * l.channels;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t b = 0; b < blocks; ++b) {
    const QuantParams p = params[b % l.channels];
    const int64_t base = b * l.inner;
#pragma omp simd
    for (int64_t i = 0; i < l.inner; ++i) py[base + i] = fake_quant(px[base + i], p);
  }
}

BMC_VECTOR_LOOPS void fake_quant_backward(Tensor& dx, const Tensor& dy, const Tensor& x, const std::vector<QuantParams>& params,
                         int channel_axis) {
  check_dtype("fake_quant_backward", "dy", dy, DType::F32);
  check_shape("fake_quant_backward", "x", x, dy.shape());
  check_shape("fake_quant_backward", "dx", dx, dy.shape());
  check_same_device("fake_quant_backward", {&dx, &dy, &x});
  check_params("fake_quant_backward", params);
  const ChannelLayout l = channel_layout(x, params.size(), channel_axis, "fake_quant_backward");
  if (x.device().is_cuda()) return BMC_DISPATCH_CUDA(fake_quant_backward_cuda(dx, dy, x, params, l));
  const float* px = x.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data<float>();
#pragma omp parallel for schedule(static) if (x.numel() > 65536)
  for (int64_t i = 0; i < x.numel(); ++i) pdx[i] = fake_quant_grad(pdy[i], px[i], params[(i / l.inner) % l.channels]);
}

BMC_VECTOR_LOOPS void requantize_to_grid(Tensor& y, const Tensor& x, const QuantParams& in, float ratio, float acc_lo, float acc_hi,
                        float out_scale) {
  check_dtype("requantize_to_grid", "x", x, DType::F32);
  check_shape("requantize_to_grid", "y", y, x.shape());
  check_same_device("requantize_to_grid", {&y, &x});
  check_params("requantize_to_grid", {in});
  BMC_CHECK(ratio > 0 && std::isfinite(ratio) && out_scale > 0 && std::isfinite(out_scale) && acc_lo <= acc_hi,
            "requantize_to_grid: invalid re-scaling (ratio ", ratio, ", output scale ", out_scale, ")");
  if (x.device().is_cuda())
    return BMC_DISPATCH_CUDA(requantize_to_grid_cuda(y, x, in, ratio, acc_lo, acc_hi, out_scale));
  const float* px = x.data<float>();
  float* py = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) py[i] = requantize_to_grid(px[i], in, ratio, acc_lo, acc_hi, out_scale);
}

}  // namespace bmc::ops
