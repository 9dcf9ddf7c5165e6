// BSQ's bit representation of one parameter (../shared/docs/algorithms/bsq.md 1.2-1.7) as a weight
// parametrization: positive and negative planes [N, numel] (plane-major, MSB first, floats in
// [0, 2] while training, bits after re-quantization) and a trainable scale s; the layer computes
// with s * Q(clip(sum_i (P_i - Nn_i) e_i)). Backward is the straight-through estimator onto
// every plane and s (plus the group-lasso term when a regularizer weight is set); the stored
// float value is not trained while the planes exist. Re-quantization and precision adjustment
// change N, so the planes are resizable state; a checkpoint restores N from their shape.
#pragma once

#include <string>
#include <vector>

#include "nn/parametrization.h"

namespace bmc::compress {

struct PrecisionChange {
  int before = 0, after = 0;
  int msb_removed = 0, lsb_removed = 0;
  bool grew = false;     // re-quantization needed one more bit
  bool clamped = false;  // re-quantization at the maximum precision clipped an overflow
};

class BitPlanes : public nn::Parametrization {
 public:
  static constexpr const char* kKind = "bsq_planes";
  // The planes of `value` at `bits` (upstream's ini2bit: one scale max|value| per layer,
  // round-half-even magnitudes, zero and negative values on the negative side). `mask`, when
  // defined, is the parameter's mask view: pruned entries get no gradient and stay zero.
  BitPlanes(const Tensor& value, int bits, const Tensor& mask);

  std::string describe() const override { return kKind; }
  void visit_state(const nn::StateVisitor& v) override;
  void state_loaded() override;
  Tensor forward(const Tensor& w) override;
  Tensor backward(const Tensor& dy) override;

  int bits() const { return static_cast<int>(bits_); }
  // A 1-bit layer whose plane is all zero: its weight is 0 and it costs no bits once exported.
  bool zero() const { return zero_ != 0; }
  int64_t numel() const { return numel_; }
  // Remaining (unpruned) entries: the parameter count the accounting uses.
  int64_t live_numel() const { return live_; }
  float scale() const;
  const Tensor& positive() const { return pos_.value; }
  const Tensor& negative() const { return neg_.value; }

  // The regularizer's layer weight alpha * N * #W / TP (0: none); its value (weight * B_l) after
  // each training forward is regularizer_value() (a device scalar).
  void set_regularizer_weight(float weight) { reg_weight_ = weight; }
  float regularizer_weight() const { return reg_weight_; }
  const Tensor& regularizer_value() const { return reg_value_; }

  // s * Q(clip(w)): the float weight the layer computes with.
  Tensor dequantized() const;
  // The signed integers of the planes (round(|w| (2^N - 1)) with w unclipped), on the host.
  std::vector<int32_t> codes() const;
  // bsq.md 1.6: binary planes of the re-quantized integers, growing N by one (s rescaled) on an
  // overflow below max_bits, clamping at max_bits.
  PrecisionChange requantize(int max_bits);
  // bsq.md 1.7 (on binary planes): drop all-zero MSB planes (saturate those with fewer than
  // `threshold` percent ones), then LSB planes with at most `threshold` percent (truncated),
  // down to 1 bit; s rescaled so dropped zero planes leave every weight unchanged.
  PrecisionChange adjust(double threshold_percent);
  // Sets the planes to these signed codes at `bits` (|code| < 2^bits) and the scale to s.
  void set_codes(const std::vector<int32_t>& codes, int bits, float scale);
  // Sets the planes ([bits, numel] each, host or device) and the scale, as read from a file.
  void load_planes(const Tensor& pos, const Tensor& neg, float scale);
  // Percent of entries with a nonzero P_i - Nn_i, per plane, MSB first.
  std::vector<double> ones_percent() const;

 private:
  void allocate_planes(int bits);
  void update_zero(const std::vector<int32_t>& codes);

  nn::StateTensor pos_, neg_, scale_;
  double bits_ = 0, zero_ = 0;
  int64_t numel_ = 0, live_ = 0;
  Tensor mask_;  // undefined when nothing is pruned
  float reg_weight_ = 0.0f;
  Tensor coef_, reg_value_;
  Shape shape_;
};

}  // namespace bmc::compress
