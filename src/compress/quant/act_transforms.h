// The activation transforms of the quantization passes (nn/activation_transform.h): an observer
// that feeds calibration statistics, fake quantization with fixed parameters (PTQ) whose backward
// is the straight-through estimator of kernels/fake_quant.cuh, the bias of a layer a batch norm
// was folded into, and the re-scaling of a residual add's input onto the sum's grid.
#pragma once

#include <functional>
#include <vector>

#include "kernels/fake_quant.cuh"
#include "nn/activation_transform.h"

namespace bmc::compress {

// Calls `fn` with every tensor it sees and passes it on unchanged.
class ObserveTransform : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "observe";
  explicit ObserveTransform(std::function<void(const Tensor&)> fn) : fn_(std::move(fn)) {}
  std::string describe() const override { return kKind; }
  Tensor forward(const Tensor& x) override;

 private:
  std::function<void(const Tensor&)> fn_;
};

// Quantize-dequantize with fixed parameters (one set per tensor, or one per channel of axis 1).
class FakeQuantTransform : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "fake_quant";
  explicit FakeQuantTransform(std::vector<QuantParams> params) : params_(std::move(params)) {}
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;

 private:
  std::vector<QuantParams> params_;
  Tensor x_;  // the input, for the straight-through gradient
};

// y = x + b[c] along axis 1: the folded bias of a layer that has no bias parameter of its own.
class ChannelBiasTransform : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "channel_bias";
  explicit ChannelBiasTransform(Tensor bias) : bias_(std::move(bias)) {}
  std::string describe() const override { return kKind; }
  Tensor forward(const Tensor& x) override;

 private:
  Tensor bias_;
};

// One input of Distiller's quantized residual add, re-scaled onto the sum's grid
// (kernels/fake_quant.cuh requantize_to_grid); straight-through backward.
class RequantizeTransform : public nn::ActivationTransform {
 public:
  static constexpr const char* kKind = "requantize";
  RequantizeTransform(QuantParams in, QuantParams out, int bits_accum);
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

 private:
  QuantParams in_;
  float ratio_, out_scale_, acc_lo_, acc_hi_;
};

}  // namespace bmc::compress
