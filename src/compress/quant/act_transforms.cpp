#include "compress/quant/act_transforms.h"

#include <sstream>

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

}  // namespace bmc::compress
