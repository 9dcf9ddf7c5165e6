#include "nn/parameter.h"

namespace bmc::nn {

const Tensor& Parameter::effective() {
  chained_ = !parametrizations.identity();
  if (!chained_) return value;
  effective_ = parametrizations.forward(value);
  BMC_CHECK(effective_.shape() == shape, name, ": a parametrization produced ", effective_.describe(),
            ", the parameter is ", shape.str());
  return effective_;
}

Tensor& Parameter::effective_grad() {
  if (!chained_) return grad;
  effective_grad_ = Tensor::zeros(shape, DType::F32, value.device());
  return effective_grad_;
}

void Parameter::finish_backward() {
  if (!chained_) return;
  parametrizations.backward(effective_grad_, grad);
  effective_grad_ = Tensor();
  effective_ = Tensor();
}

}  // namespace bmc::nn
