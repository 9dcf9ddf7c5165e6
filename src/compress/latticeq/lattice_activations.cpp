#include "compress/latticeq/lattice_activations.h"

#include <algorithm>
#include <cmath>

#include "ops/lattice.h"

namespace bmc::compress {
namespace {

// Channel of element i of x: axis 1 (N, C, ...) or the last axis of (N, F).
int64_t channels_of(const Tensor& x) { return x.rank() >= 2 ? x.dim(1) : 1; }
int64_t inner_of(const Tensor& x) { return x.rank() >= 2 ? x.numel() / (x.dim(0) * x.dim(1)) : x.numel(); }

// torch.quantile's linear interpolation between the order statistics around q (m - 1).
float quantile(std::vector<float>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<int64_t>(lo), v.end());
  const double a = v[lo];
  if (hi == lo || pos == static_cast<double>(lo)) return static_cast<float>(a);
  const double b = *std::min_element(v.begin() + static_cast<int64_t>(lo) + 1, v.end());
  return static_cast<float>(a + (b - a) * (pos - static_cast<double>(lo)));
}

}  // namespace

double lattice_act_quantile(int bits) {
  static const double table[] = {0.97, 0.992, 0.9991, 0.9997, 0.9998, 0.99995, 0.99999};
  BMC_CHECK(bits >= 1, "activation bits must be at least 1, got ", bits);
  return bits >= 8 ? 1.0 : table[bits - 1];
}

LatticeActQuant::LatticeActQuant(int bits, LatticeActRange range) : bits_(bits), range_(range) {
  BMC_CHECK(bits >= 1 && bits <= 16, "activation bits must be 1..16, got ", bits);
  alpha_.trainable = false;
}

std::string LatticeActQuant::describe() const {
  static const char* names[] = {"max |x|", "max x", "per-channel quantile"};
  return std::string(kKind) + "(b=" + std::to_string(bits_) + ", " + names[static_cast<int>(range_)] + ")";
}

void LatticeActQuant::calibrate(const Tensor& x) {
  const std::vector<float> v = x.to_vector<float>();
  std::vector<float> alpha;
  if (range_ == LatticeActRange::Quantile) {
    const int64_t batch = x.dim(0), channels = channels_of(x), inner = inner_of(x);
    const double q = lattice_act_quantile(bits_);
    alpha.resize(static_cast<size_t>(channels));
    std::vector<float> values(static_cast<size_t>(batch * inner));
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t b = 0; b < batch; ++b)
        std::copy_n(v.begin() + (b * channels + c) * inner, inner, values.begin() + b * inner);
      alpha[c] = quantile(values, q);
    }
  } else {
    float m = -INFINITY;
    for (float e : v) m = std::max(m, range_ == LatticeActRange::AbsMax ? std::fabs(e) : e);
    alpha = {m};
  }
  for (float& a : alpha)
    if (a == 0.0f) a = 1.0f;  // upstream's stand-in for an all-zero range
  alpha_.allocate({static_cast<int64_t>(alpha.size())}, x.device(), 0.0f);
  alpha_.value.copy_from(Tensor::from_vector(alpha, Shape{static_cast<int64_t>(alpha.size())}, x.device()));
  calibrated_ = true;
}

Tensor LatticeActQuant::forward(const Tensor& x) {
  if (!calibrated_) calibrate(x);
  x_ = x.view(x.shape());
  Tensor y(x.shape(), DType::F32, x.device());
  ops::lattice_act_forward(y, x, alpha_.value, bits_);
  return y;
}

Tensor LatticeActQuant::backward(const Tensor& dy) {
  BMC_CHECK(x_.defined(), describe(), ": backward without a forward");
  Tensor dx(dy.shape(), DType::F32, dy.device());
  ops::lattice_act_backward(dx, dy, x_, alpha_.value);
  return dx;
}

}  // namespace bmc::compress
