#include "compress/sparq/sparq_conv.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "kernels/sparq.cuh"
#include "ops/check.h"

namespace bmc::compress {

SparqConvKernel::SparqConvKernel(nn::Conv2d& conv, std::string name, int x_bits, int w_bits)
    : conv_(conv), name_(std::move(name)), x_bits_(x_bits), w_bits_(w_bits) {
  BMC_CHECK(x_bits >= 2 && x_bits <= 8, name_, ": SPARQ activation bits must be 2..8, got ", x_bits);
  BMC_CHECK(w_bits >= 2 && w_bits <= 8, name_, ": SPARQ weight bits must be 2..8, got ", w_bits);
  const Shape& s = conv.weight().shape;
  out_ = s[0];
  in_ = s[1];
  kh_ = s[2];
  kw_ = s[3];
  k_ = in_ * kh_ * kw_;
  const std::vector<float> w = conv.weight().effective().to_vector<float>();
  std::vector<int8_t> codes(w.size());
  w_steps_.resize(static_cast<size_t>(out_));
  for (int64_t o = 0; o < out_; ++o) {
    float m = 0;
    for (int64_t i = 0; i < k_; ++i) m = std::max(m, std::fabs(w[o * k_ + i]));
    const float step = sparq_weight_step(m, w_bits);
    w_steps_[o] = step;
    for (int64_t i = 0; i < k_; ++i) codes[o * k_ + i] = static_cast<int8_t>(sparq_weight_code(w[o * k_ + i], step, w_bits));
  }
  codes_ = weights_tap_major(codes, out_, in_, kh_, kw_);
  two_of_four_ = compress::two_of_four(codes_.data(), out_, k_);
  if (nn::Parameter* b = conv.bias()) {
    const std::vector<float> bv = b->effective().to_vector<float>();
    float m = 0;
    for (float v : bv) m = std::max(m, std::fabs(v));
    const float step = sparq_weight_step(m, w_bits);
    for (float v : bv) bias_.push_back(static_cast<float>(sparq_weight_code(v, step, w_bits)) * step);
  }
}

std::string SparqConvKernel::describe() const {
  std::ostringstream s;
  s << "sparq(" << sparq_mode_name(mode_) << ", A" << x_bits_ << "W" << w_bits_;
  if (mode_ != SparqMode::Exact)
    s << ", " << window_.bits << "-bit window, shift step " << window_.shift_step << ", "
      << (window_.round == WindowRound::Round ? "round" : "raw");
  s << ", " << (!cuda_kernel_.empty() ? cuda_kernel_.c_str() : reference_ ? "reference" : int_gemm_path_name(best_int_gemm_path()))
    << ")";
  return s.str();
}

void SparqConvKernel::set_range(float range, int64_t images) {
  BMC_CHECK(std::isfinite(range) && range >= 0, name_, ": activation range must be finite and >= 0, got ", range);
  range_ = range;
  range_images_ = images;
}

void SparqConvKernel::set_mode(SparqMode mode, const BitWindow& window) {
  BMC_CHECK(mode == SparqMode::Exact || x_bits_ == 8, name_, ": bit windows select bits of 8-bit codes; this layer has ",
            x_bits_, "-bit activations");
  if (mode == SparqMode::Stc) check_two_of_four(codes_.data(), out_, k_, name_);
  mode_ = mode;
  window_ = window;
}

void SparqConvKernel::fold_into_range(const std::vector<float>& x, int64_t n, int64_t per_image) {
  int64_t bad = -1;
#pragma omp parallel for schedule(static) reduction(max : bad)
  for (int64_t i = 0; i < n * per_image; ++i)
    if (!(x[i] >= 0)) bad = std::max(bad, i);
  BMC_CHECK(bad < 0, name_, ": SPARQ quantizes unsigned activations; the input holds ", bad < 0 ? 0.0f : x[bad],
            " (signed activations are not supported)");
  if (!calibrating_) return;
  float sum = 0;
  for (int64_t img = 0; img < n; ++img)
    sum += *std::max_element(x.begin() + img * per_image, x.begin() + (img + 1) * per_image);
  range_ = (range_ * static_cast<float>(range_images_) + sum) / static_cast<float>(range_images_ + n);
  range_images_ += n;
}

Tensor SparqConvKernel::forward(const Tensor& x_in) {
  BMC_CHECK(x_in.rank() == 4 && x_in.dim(1) == in_, name_, ": expected input (N, ", in_, ", H, W), got ",
            x_in.describe());
  const int64_t n = x_in.dim(0), h = x_in.dim(2), w = x_in.dim(3), per_image = in_ * h * w;
  input_per_image_ = per_image;
  if (x_in.device().is_cuda()) return BMC_DISPATCH_CUDA(forward_cuda(x_in));
  const std::vector<float> x = x_in.to_vector<float>();
  fold_into_range(x, n, per_image);
  const float step = sparq_act_step(range_, x_bits_);
  const std::vector<uint8_t> codes = act_codes_nhwc(x.data(), n, in_, h, w, step, x_bits_);
  int64_t oh = 0, ow = 0;
  const std::vector<uint8_t> a = im2col_tap_major(codes.data(), n, in_, h, w, kh_, kw_, conv_.params(), oh, ow);
  const int64_t m = n * oh * ow;
  std::vector<int32_t> c(static_cast<size_t>(m * out_));
  if (reference_)
    sparq_gemm_reference(a.data(), codes_.data(), c.data(), m, k_, out_, mode_, window_);
  else
    sparq_gemm(a.data(), codes_.data(), c.data(), m, k_, out_, mode_, window_);

  std::vector<float> y(static_cast<size_t>(m * out_));
  const int64_t plane = oh * ow;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t img = 0; img < n; ++img)
    for (int64_t o = 0; o < out_; ++o) {
      const float bias = bias_.empty() ? 0.0f : bias_[o];
      float* dst = y.data() + (img * out_ + o) * plane;
      const int32_t* src = c.data() + img * plane * out_ + o;
      for (int64_t p = 0; p < plane; ++p) dst[p] = sparq_dequantize(src[p * out_], step, w_steps_[o], bias);
    }
  return Tensor::from_vector(y, {n, out_, oh, ow}, x_in.device());
}

#if BMC_HAS_CUDA
Tensor SparqConvKernel::forward_cuda(const Tensor& x) {
  // Calibration batches (a few) fold their maxima on the host; evaluation stays on the device.
  if (calibrating_) fold_into_range(x.to_vector<float>(), x.dim(0), input_per_image_);
  if (!device_weights_ || device_weights_->dense.device() != x.device())
    device_weights_ = upload_sparq_weights(sparq_operands(codes_, out_, k_), w_steps_, bias_, x.device());
  const SparqCudaKernel kernel = mode_ == SparqMode::Stc ? SparqCudaKernel::Stc
                                 : device_weights_->sparse() ? SparqCudaKernel::Sparse
                                                             : SparqCudaKernel::Dense;
  cuda_kernel_ = sparq_cuda_kernel_name(kernel);
  return sparq_conv_forward_cuda(x, *device_weights_, kh_, kw_, conv_.params(), sparq_act_step(range_, x_bits_), x_bits_,
                                 mode_, window_, kernel, name_);
}
#endif

}  // namespace bmc::compress
