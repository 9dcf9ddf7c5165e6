// The activation transforms of the quantization passes (nn/activation_transform.h): an observer
// that feeds calibration statistics, and fake quantization with fixed parameters (PTQ) whose
// backward is the straight-through estimator of kernels/fake_quant.cuh.
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

}  // namespace bmc::compress
