#include "compress/bsq/bsq_latent.h"

#include <cmath>

#include "ops/bsq.h"

namespace bmc::compress {

BsqLatent::BsqLatent(int bits, float scale, Device device) : bits_(bits) {
  BMC_CHECK(bits >= 0 && bits <= 16, "BSQ fine-tuning: precision must be 0..16 bits, got ", bits);
  scale_.trainable = true;
  scale_.allocate({1}, device, scale);
}

Tensor BsqLatent::forward(const Tensor& u) {
  u_ = u.view(u.shape());
  Tensor w = Tensor::zeros(u.shape(), DType::F32, u.device());
  if (bits_ > 0) ops::bsq_latent_forward(w, u, scale_.value, bits_);
  return w;
}

Tensor BsqLatent::backward(const Tensor& dy) {
  Tensor du = Tensor::zeros(dy.shape(), DType::F32, dy.device());
  if (bits_ > 0) ops::bsq_latent_backward(du, scale_.grad, dy, u_, scale_.value, bits_);
  u_ = Tensor();
  return du;
}

std::vector<int32_t> BsqLatent::codes(const Tensor& u) const {
  std::vector<int32_t> out;
  const float levels = static_cast<float>((1 << bits_) - 1);
  for (const float v : u.to_vector<float>()) {
    const float c = std::fmin(1.0f, std::fmax(-1.0f, v));
    const int32_t r = bits_ == 0 ? 0 : static_cast<int32_t>(std::rint(std::fabs(c) * levels));
    out.push_back(c > 0.0f ? r : -r);
  }
  return out;
}

}  // namespace bmc::compress
