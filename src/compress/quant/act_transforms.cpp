#include "compress/quant/act_transforms.h"

#include <cmath>
#include <sstream>

#include "ops/elementwise.h"
#include "ops/fake_quant.h"

namespace bmc::compress {

Tensor ObserveTransform::forward(const Tensor& x) {
  fn_(x);
  return x.view(x.shape());
}

std::string FakeQuantTransform::describe() const {
  std::ostringstream s;
  s << kKind << "(";
  for (size_t i = 0; i < params_.size(); ++i)
    s << (i ? ";" : "") << params_[i].scale << "," << params_[i].zero_point << "," << params_[i].qmin << ","
      << params_[i].qmax;
  s << ")";
  return s.str();
}

Tensor FakeQuantTransform::forward(const Tensor& x) {
  Tensor y(x.shape(), DType::F32, x.device());
  ops::fake_quant_forward(y, x, params_, 1);
  x_ = x.view(x.shape());
  return y;
}

Tensor FakeQuantTransform::backward(const Tensor& dy) {
  Tensor dx(dy.shape(), DType::F32, dy.device());
  ops::fake_quant_backward(dx, dy, x_, params_, 1);
  x_ = Tensor();
  return dx;
}

Tensor ChannelBiasTransform::forward(const Tensor& x) {
  Tensor y = x.clone();
  ops::add_channel_bias(y, bias_);
  return y;
}

RequantizeTransform::RequantizeTransform(QuantParams in, QuantParams out, int bits_accum)
    : in_(in),
      ratio_(out.scale / in.scale),
      out_scale_(out.scale),
      acc_lo_(-static_cast<float>(std::ldexp(1.0, bits_accum - 1))),
      acc_hi_(static_cast<float>(std::ldexp(1.0, bits_accum - 1)) - 1.0f) {}

std::string RequantizeTransform::describe() const {
  std::ostringstream s;
  s << kKind << "(" << in_.scale << "," << in_.zero_point << "->" << out_scale_ << ")";
  return s.str();
}

Tensor RequantizeTransform::forward(const Tensor& x) {
  Tensor y(x.shape(), DType::F32, x.device());
  ops::requantize_to_grid(y, x, in_, ratio_, acc_lo_, acc_hi_, out_scale_);
  return y;
}

}  // namespace bmc::compress
