#include "nn/state.h"

namespace bmc::nn {

void StateTensor::allocate(const Shape& shape, Device device, float initial) {
  value = Tensor::full(shape, initial, device);
  if (!trainable) return;
  grad = Tensor::zeros(shape, DType::F32, device);
  momentum = Tensor::zeros(shape, DType::F32, device);
}

void StateTensor::resize(const Shape& shape) {
  const Device device = value.device();
  value = Tensor::zeros(shape, DType::F32, device);
  if (!trainable) return;
  grad = Tensor::zeros(shape, DType::F32, device);
  momentum = Tensor::zeros(shape, DType::F32, device);
}

}  // namespace bmc::nn
