// A LatticeQ-quantized weight as a parametrization (nn/parametrization.h): the layer computes with
// d * (z B) for every vector of W / d, d = max |W| taken afresh at each forward (a constant for
// the gradient), optionally bias-corrected per output channel (section 2.6); the gradient is
// the straight-through one of the rounding (kernels/lattice.cuh), and none at all with the bias
// correction (upstream computes the corrected weight from detached tensors).
#pragma once

#include <string>
#include <vector>

#include "kernels/lattice_search.cuh"
#include "nn/parametrization.h"

namespace bmc::compress {

// d = max |w| of a layer (refused when zero or not finite: nothing to quantize).
float lattice_layer_scale(const Tensor& w, const std::string& what = "lattice weight");

class LatticeWeight : public nn::Parametrization {
 public:
  static constexpr const char* kKind = "lattice";
  LatticeWeight(const LatticeSearchShape& shape, const std::vector<float>& bases, bool bias_correct, Device device);
  std::string describe() const override;
  void visit_state(const nn::StateVisitor& v) override { v.tensor("bases", bases_); }
  Tensor forward(const Tensor& w) override;
  Tensor backward(const Tensor& dy) override;

  const LatticeSearchShape& shape() const { return shape_; }
  bool bias_correct() const { return bias_correct_; }
  const Tensor& bases() const { return bases_.value; }
  // d = max |w| and the integer coordinates of w (I32, w's shape).
  float layer_scale(const Tensor& w) const { return lattice_layer_scale(w); }
  Tensor coordinates(const Tensor& w) const;

 private:
  LatticeSearchShape shape_;
  bool bias_correct_;
  nn::StateTensor bases_;
  Tensor w_;  // the input of the last forward
  float scale_ = 1.0f;
};

}  // namespace bmc::compress
