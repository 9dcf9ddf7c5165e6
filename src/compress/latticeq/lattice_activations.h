// LatticeQ's activation quantization (../shared/docs/algorithms/latticeq.md 2.7) as an input
// transform: the first tensor it sees (the calibration batch) fixes alpha, per layer (the max of
// |x|, or of x for linear layers) or per input channel (the quantile of the channel's values
// that the bit width selects, 1.0 = the max), and every tensor after that, that one included, is
// quantized to alpha * k / (2^b - 1). The gradient passes where 0 <= x <= alpha.
#pragma once

#include <string>
#include <vector>

#include "nn/activation_transform.h"

namespace bmc::compress {

enum class LatticeActRange { AbsMax, Max, Quantile };

// The per-channel quantile for a bit width (section 2.7's table; 8 bits and more: the max).
double lattice_act_quantile(int bits);

class LatticeActQuant : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "lattice_act";
  LatticeActQuant(int bits, LatticeActRange range);
  std::string describe() const override;
  void visit_state(const nn::StateVisitor& v) override { v.tensor("alpha", alpha_); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;

  bool calibrated() const { return calibrated_; }
  int bits() const { return bits_; }
  std::vector<float> alpha() const { return alpha_.value.to_vector<float>(); }

 private:
  void calibrate(const Tensor& x);

  int bits_;
  LatticeActRange range_;
  bool calibrated_ = false;
  nn::StateTensor alpha_;  // [1] or [channels]
  Tensor x_;
};

}  // namespace bmc::compress
