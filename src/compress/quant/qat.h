// Quantization-aware training with Distiller's semantics (QuantAwareTrainRangeLinearQuantizer),
// built on the compression seam: the weight of every parameter layer gets a fake-quant
// parametrization (range from the current weights at every step, per tensor or per output
// channel), every ReLU of the layer graph an output transform, and the network input an input
// transform (Distiller's quantize_inputs), that fake-quantize with an exponential moving average
// of the tensor's min and max (Distiller's FakeLinearQuantization: decay 0.999 with bias
// correction, updated in training, frozen in evaluation). Biases stay float (Distiller's default
// bits_bias 32). Both backwards are the straight-through estimator of kernels/fake_quant.cuh: the
// gradient passes where the code lies inside the range (weights always do, their range is their
// own min/max; Distiller zeroes it outside the tracked activation range, the same but for values
// within half a step of its edge). The stored float weights stay what the optimizer trains;
// checkpoints carry the activation ranges.
#pragma once

#include <string>

#include "compress/quant/quantizer.h"
#include "nn/activation_transform.h"
#include "nn/model.h"
#include "nn/parametrization.h"

namespace bmc::compress {

struct QatConfig {
  int bits_weights = 8;
  int bits_acts = 8;
  QuantMode mode = QuantMode::Sym;
  bool per_channel = false;
  double ema_decay = 0.999;
  bool quantize_inputs = true;
  std::string describe() const;  // "w4a8_sym[_per_channel]"
};

class WeightFakeQuant : public nn::Parametrization {
 public:
  static constexpr const char* kKind = "qat_weight";
  WeightFakeQuant(int bits, QuantMode mode, bool per_channel) : bits_(bits), mode_(mode), per_channel_(per_channel) {}
  std::string describe() const override;
  Tensor forward(const Tensor& w) override;
  Tensor backward(const Tensor& dy) override;

 private:
  int bits_;
  QuantMode mode_;
  bool per_channel_;
  Tensor w_;
  RangeLinearQuantizer quantizer_;
};

class ActivationFakeQuant : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "qat_act";
  ActivationFakeQuant(int bits, QuantMode mode, double ema_decay, const nn::Module& owner)
      : bits_(bits), mode_(mode), decay_(ema_decay), owner_(owner) {}
  std::string describe() const override;
  void visit_state(const nn::StateVisitor& v) override;
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  QuantParams params() const;  // from the bias-corrected moving averages

 private:
  int bits_;
  QuantMode mode_;
  double decay_;
  const nn::Module& owner_;  // the network: its training flag says whether the range is updated
  double biased_min_ = 0, biased_max_ = 0, steps_ = 0;
  Tensor x_;
  QuantParams used_;
};

// Attaches QAT to the input, every parameter layer and every ReLU of the model's graph (weight
// fake-quant after any mask).
void attach_qat(nn::Model& model, const QatConfig& config);
// Removes what attach_qat attached.
void detach_qat(nn::Model& model);

}  // namespace bmc::compress
