// BSQ fine-tuning (../shared/docs/algorithms/bsq.md 1.10): the scheme found by BSQ training is
// fixed, the stored value of each quantized parameter is the normalized latent u (clamped to
// [-1, 1] after every step by the command), and the layer computes with s * Q_N(clip(u)); u gets
// the straight-through gradient s * g, the trainable scale s the sum of g * Q. A 0-bit layer (one
// BSQ emptied) computes with zeros.
#pragma once

#include <string>

#include "nn/parametrization.h"

namespace bmc::compress {

class BsqLatent : public nn::Parametrization {
 public:
  static constexpr const char* kKind = "bsq_latent";
  BsqLatent(int bits, float scale, Device device);
  std::string describe() const override { return std::string(kKind) + "(b=" + std::to_string(bits_) + ")"; }
  void visit_state(const nn::StateVisitor& v) override { v.tensor("scale", scale_); }
  Tensor forward(const Tensor& u) override;
  Tensor backward(const Tensor& dy) override;
  int bits() const { return bits_; }
  float scale() const { return scale_.value.to_vector<float>()[0]; }
  // The signed integers round(|clip(u)| (2^N - 1)) of a latent (upstream's finetune_to_bit).
  std::vector<int32_t> codes(const Tensor& u) const;

 private:
  int bits_;
  nn::StateTensor scale_;
  Tensor u_;
};

}  // namespace bmc::compress
