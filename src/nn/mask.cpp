#include "nn/mask.h"

namespace bmc::nn {

Tensor MaskParametrization::forward(const Tensor&) {
  BMC_FAIL("a mask must be the first parametrization of its parameter (Model::masks_changed puts it there)");
}

Tensor MaskParametrization::backward(const Tensor&) {
  BMC_FAIL("a mask must be the first parametrization of its parameter");
}

}  // namespace bmc::nn
