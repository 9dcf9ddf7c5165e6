#include "compress/latticeq/lattice_weight.h"

#include <algorithm>
#include <cmath>

#include "ops/lattice.h"

namespace bmc::compress {

LatticeWeight::LatticeWeight(const LatticeSearchShape& shape, const std::vector<float>& bases, bool bias_correct,
                             Device device)
    : shape_(shape), bias_correct_(bias_correct) {
  BMC_CHECK(static_cast<int64_t>(bases.size()) == shape.bases() * shape.n * shape.n, "lattice weight: ", bases.size(),
            " basis entries for ", shape.bases(), " bases of dimension ", shape.n);
  bases_.trainable = false;
  bases_.allocate({shape.bases(), shape.n, shape.n}, device, 0.0f);
  bases_.value.copy_from(Tensor::from_vector(bases, Shape{shape.bases(), shape.n, shape.n}, device));
}

std::string LatticeWeight::describe() const {
  return std::string(kKind) + "(n=" + std::to_string(shape_.n) + ", b=" + std::to_string(shape_.bits) + ", " +
         (shape_.shared_basis ? "per layer" : "per channel") + (bias_correct_ ? ", bias-corrected" : "") + ")";
}

float lattice_layer_scale(const Tensor& w, const std::string& what) {
  const std::vector<float> v = w.to_vector<float>();
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  BMC_CHECK(m > 0.0f && std::isfinite(m), what, ": max |W| is ", m, "; nothing to quantize");
  return m;
}

Tensor LatticeWeight::coordinates(const Tensor& w) const {
  Tensor out(w.shape(), DType::F32, w.device()), coords(w.shape(), DType::I32, w.device());
  ops::lattice_quantize(out, &coords, w, bases_.value, layer_scale(w), shape_);
  return coords;
}

Tensor LatticeWeight::forward(const Tensor& w) {
  scale_ = layer_scale(w);
  w_ = w.view(w.shape());
  Tensor out(w.shape(), DType::F32, w.device());
  ops::lattice_quantize(out, nullptr, w, bases_.value, scale_, shape_);
  if (bias_correct_) ops::lattice_bias_correct(out, w, shape_.channels);
  return out;
}

Tensor LatticeWeight::backward(const Tensor& dy) {
  BMC_CHECK(w_.defined(), "lattice weight: backward without a forward");
  if (bias_correct_) return Tensor::zeros(dy.shape(), DType::F32, dy.device());
  Tensor dw(dy.shape(), DType::F32, dy.device());
  ops::lattice_ste_backward(dw, dy, w_, bases_.value, scale_, shape_);
  return dw;
}

}  // namespace bmc::compress
