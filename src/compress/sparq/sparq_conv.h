// A SPARQ conv (../shared/docs/algorithms/sparq.md, section 2): installed on an nn::Conv2d as its
// inference kernel, it quantizes the weights once (symmetric, per output channel, w_bits) and, on
// every forward, the input (unsigned, per tensor, x_bits, step M / (2^x_bits - 1) for the range M),
// runs the tap-major integer GEMM of compress/sparq/sparq_gemm.h in the configured mode, and
// returns C * step_x * step_w[o] + bias, the bias quantized per tensor and dequantized (section
// 2.3). While calibrating, each forward first folds the batch into M, the running mean over
// images of the per-image maximum, then quantizes that batch with the updated M (section 2.4).
// Inputs must be non-negative (post-ReLU): a negative value is an error. On the CPU the GEMM is
// compress/sparq/sparq_gemm.h's; on a CUDA device kernels/sparq.cu's tensor-core GEMMs (mma.sp
// for 2:4 weights) or its STC kernel, and describe() names the one that ran.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compress/sparq/sparq_conv_cuda.h"
#include "compress/sparq/sparq_gemm.h"
#include "nn/conv.h"

namespace bmc::compress {

class SparqConvKernel : public nn::LayerKernel {
 public:
  SparqConvKernel(nn::Conv2d& conv, std::string name, int x_bits, int w_bits);

  std::string describe() const override;
  // The CUDA kernel the last device forward used ("" before any).
  const std::string& cuda_kernel() const { return cuda_kernel_; }
  Tensor forward(const Tensor& x) override;

  const std::string& name() const { return name_; }
  int x_bits() const { return x_bits_; }
  int w_bits() const { return w_bits_; }

  // The activation range M and the number of images folded into it.
  float range() const { return range_; }
  int64_t range_images() const { return range_images_; }
  void set_range(float range, int64_t images);
  void set_calibrating(bool on) { calibrating_ = on; }

  void set_mode(SparqMode mode, const BitWindow& window);
  SparqMode mode() const { return mode_; }
  // Evaluate every output directly (sparq_gemm_reference) instead of through the dense int GEMM.
  void set_reference(bool on) { reference_ = on; }

  // Weight codes (O x K, tap-major K) and the per-output-channel steps.
  const std::vector<int8_t>& weight_codes() const { return codes_; }
  const std::vector<float>& weight_steps() const { return w_steps_; }
  int64_t out_channels() const { return out_; }
  int64_t reduction() const { return k_; }
  // True when every aligned group of 4 along K holds at most two non-zero weight codes.
  bool two_of_four() const { return two_of_four_; }
  // Input elements per image of the last forward (C * H * W).
  int64_t input_elements_per_image() const { return input_per_image_; }

 private:
  void fold_into_range(const std::vector<float>& x, int64_t n, int64_t per_image);
  Tensor forward_cuda(const Tensor& x);

  nn::Conv2d& conv_;
  std::string name_;
  int x_bits_, w_bits_;
  int64_t out_ = 0, in_ = 0, kh_ = 0, kw_ = 0, k_ = 0;
  std::vector<int8_t> codes_;
  std::vector<float> w_steps_;
  std::vector<float> bias_;  // dequantized (empty without a bias)
  bool two_of_four_ = false;
  float range_ = 0;
  int64_t range_images_ = 0;
  bool calibrating_ = false;
  SparqMode mode_ = SparqMode::Exact;
  BitWindow window_;
  bool reference_ = false;
  int64_t input_per_image_ = 0;
  std::optional<SparqDeviceWeights> device_weights_;
  std::string cuda_kernel_;
};

}  // namespace bmc::compress
