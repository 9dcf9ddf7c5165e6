#include "compress/bsq/bit_planes.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "kernels/bit_planes.cuh"
#include "ops/bsq.h"

namespace bmc::compress {
namespace {

int32_t levels(int bits) { return (1 << bits) - 1; }

}  // namespace

BitPlanes::BitPlanes(const Tensor& value, int bits, const Tensor& mask) : shape_(value.shape()) {
  BMC_CHECK(bits >= 1 && bits <= 16, "BSQ: precision must be 1..16 bits, got ", bits);
  numel_ = value.numel();
  live_ = numel_;
  const std::vector<float> v = value.to_vector<float>();
  if (mask.defined()) {
    const std::vector<float> m = mask.to_vector<float>();
    live_ = std::count_if(m.begin(), m.end(), [](float x) { return x != 0.0f; });
    if (live_ < numel_) mask_ = mask.view({numel_});
  }
  for (nn::StateTensor* t : {&pos_, &neg_}) {
    t->trainable = true;
    t->clamp_min = 0.0f;
    t->clamp_max = 2.0f;
    t->resizable = true;
  }
  scale_.trainable = true;
  scale_.allocate({1}, value.device());
  float range = 0.0f;
  for (const float x : v) range = std::max(range, std::fabs(x));
  std::vector<int32_t> codes(v.size());
  for (size_t j = 0; j < v.size(); ++j) {
    const int32_t r = bit_plane_integer(v[j], range, bits);
    codes[j] = v[j] > 0.0f ? r : -r;
  }
  set_codes(codes, bits, range);
}

void BitPlanes::allocate_planes(int bits) {
  const Device device = scale_.value.device();
  if (!pos_.value.defined() || pos_.value.dim(0) != bits) {
    if (!pos_.value.defined()) {
      pos_.allocate({bits, numel_}, device);
      neg_.allocate({bits, numel_}, device);
    } else {
      pos_.resize({bits, numel_});
      neg_.resize({bits, numel_});
    }
  }
  bits_ = bits;
  coef_ = Tensor::zeros({bits}, DType::F32, device);
  reg_value_ = Tensor::zeros({1}, DType::F32, device);
}

void BitPlanes::visit_state(const nn::StateVisitor& v) {
  v.tensor("pos", pos_);
  v.tensor("neg", neg_);
  v.tensor("scale", scale_);
  v.scalar("bits", bits_);
  v.scalar("zero", zero_);
}

void BitPlanes::state_loaded() {
  BMC_CHECK(pos_.value.rank() == 2 && pos_.value.dim(1) == numel_ && neg_.value.shape() == pos_.value.shape(),
            "BSQ: loaded planes ", pos_.value.describe(), " do not fit a parameter of ", numel_, " values");
  BMC_CHECK(static_cast<double>(pos_.value.dim(0)) == bits_, "BSQ: loaded planes hold ", pos_.value.dim(0),
            " bits, the recorded precision is ", bits_);
  allocate_planes(static_cast<int>(pos_.value.dim(0)));
}

float BitPlanes::scale() const { return scale_.value.to_vector<float>()[0]; }

Tensor BitPlanes::dequantized() const {
  Tensor out = Tensor::zeros(shape_, DType::F32, scale_.value.device());
  if (zero()) return out;
  Tensor flat = out.view({numel_});
  ops::bsq_forward(flat, pos_.value, neg_.value, scale_.value);
  return out;
}

Tensor BitPlanes::forward(const Tensor& /*stored value: not used while the planes exist*/) {
  if (!(reg_weight_ > 0.0f)) return dequantized();
  if (zero()) {
    ops::bsq_regularizer(coef_, reg_value_, pos_.value, neg_.value, reg_weight_);
    return dequantized();
  }
  // The regularizer reads the same planes as the weights: one pass for both.
  Tensor out(shape_, DType::F32, scale_.value.device());
  Tensor flat = out.view({numel_});
  ops::bsq_forward_regularized(flat, coef_, reg_value_, pos_.value, neg_.value, scale_.value, reg_weight_);
  return out;
}

Tensor BitPlanes::backward(const Tensor& dy) {
  if (reg_weight_ <= 0.0f) coef_.fill_zero();
  const Tensor g = dy.view({numel_});
  const Tensor mask = mask_.defined() ? mask_.view({numel_}) : Tensor();
  ops::bsq_backward(pos_.grad, neg_.grad, scale_.grad, g, mask.defined() ? &mask : nullptr, pos_.value, neg_.value,
                    scale_.value, coef_, !zero());
  return Tensor::zeros(dy.shape(), DType::F32, dy.device());
}

std::vector<int32_t> BitPlanes::codes() const {
  Tensor c({numel_}, DType::I32, scale_.value.device());
  ops::bsq_codes(c, pos_.value, neg_.value);
  return c.to_vector<int32_t>();
}

void BitPlanes::update_zero(const std::vector<int32_t>& codes) {
  zero_ = bits() == 1 && std::all_of(codes.begin(), codes.end(), [](int32_t c) { return c == 0; });
}

void BitPlanes::set_codes(const std::vector<int32_t>& codes, int bits, float scale) {
  BMC_CHECK(static_cast<int64_t>(codes.size()) == numel_, "BSQ: ", codes.size(), " codes for ", numel_, " values");
  allocate_planes(bits);
  Tensor c = Tensor::from_vector(codes, {numel_});
  if (scale_.value.device().is_cuda()) c = c.to(scale_.value.device());
  ops::bsq_write_codes(pos_.value, neg_.value, c);
  scale_.value.fill(scale);
  update_zero(codes);
}

void BitPlanes::load_planes(const Tensor& pos, const Tensor& neg, float scale) {
  BMC_CHECK(pos.rank() == 2 && pos.dim(1) == numel_ && neg.shape() == pos.shape() && pos.dim(0) >= 1 &&
                pos.dim(0) <= 16,
            "BSQ: planes ", pos.describe(), " / ", neg.describe(), " do not fit a parameter of ", numel_, " values");
  allocate_planes(static_cast<int>(pos.dim(0)));
  if (!mask_.defined()) {
    pos_.value.copy_from(pos);
    neg_.value.copy_from(neg);
  } else {  // pruned entries stay zero whatever the file holds
    const std::vector<float> m = mask_.to_vector<float>();
    for (auto [from, to] : {std::pair{&pos, &pos_.value}, std::pair{&neg, &neg_.value}}) {
      std::vector<float> v = from->to_vector<float>();
      for (size_t k = 0; k < v.size(); ++k) v[k] *= m[k % m.size()];
      to->copy_from(Tensor::from_vector(v, to->shape()));
    }
  }
  scale_.value.fill(scale);
  update_zero(codes());
}

PrecisionChange BitPlanes::requantize(int max_bits) {
  PrecisionChange change;
  change.before = change.after = bits();
  std::vector<int32_t> c = codes();
  const int32_t limit = levels(bits());
  int32_t largest = 0;
  for (const int32_t v : c) largest = std::max(largest, std::abs(v));
  float s = scale();
  if (largest > limit) {
    if (bits() >= max_bits) {
      for (int32_t& v : c) v = std::clamp(v, -limit, limit);
      change.clamped = true;
    } else {
      // One more bit holds every integer (|R| <= 2 (2^N - 1) < 2^(N+1) - 1); s keeps the values.
      change.after = bits() + 1;
      change.grew = true;
      s = static_cast<float>(static_cast<double>(s) * levels(change.after) / limit);
    }
  }
  set_codes(c, change.after, s);
  return change;
}

PrecisionChange BitPlanes::adjust(double threshold_percent) {
  PrecisionChange change;
  change.before = bits();
  std::vector<int32_t> c = codes();
  int n = bits();
  double s = scale();
  // Planes not re-quantized since training may sum past the grid: their integers are the clipped
  // forward's.
  for (int32_t& v : c) v = std::clamp(v, -levels(n), levels(n));
  // Percent of entries whose magnitude has bit b set.
  auto percent_with_bit = [&](int b) {
    int64_t count = 0;
    for (const int32_t v : c) count += (std::abs(v) >> b) & 1;
    return 100.0 * static_cast<double>(count) / static_cast<double>(numel_);
  };
  while (n > 1) {  // MSB planes
    const double nz = percent_with_bit(n - 1);
    if (nz == 0.0) {
      --n;
    } else if (nz < threshold_percent) {  // saturate: the MSB folds into the lower planes
      const int32_t top = levels(n - 1);
      for (int32_t& v : c) v = std::clamp(v, -top, top);
      --n;
    } else {
      break;
    }
    ++change.msb_removed;
  }
  while (n > 1 && percent_with_bit(0) <= threshold_percent) {  // LSB planes, truncated
    for (int32_t& v : c) v = v < 0 ? -((-v) >> 1) : v >> 1;
    --n;
    s *= 2;
    ++change.lsb_removed;
  }
  s = s * levels(n) / levels(change.before);
  change.after = n;
  set_codes(c, n, static_cast<float>(s));
  return change;
}

std::vector<double> BitPlanes::ones_percent() const {
  const std::vector<float> p = pos_.value.to_vector<float>(), q = neg_.value.to_vector<float>();
  std::vector<double> out(static_cast<size_t>(bits()));
  for (int i = 0; i < bits(); ++i) {
    int64_t count = 0;
    for (int64_t j = i * numel_; j < (i + 1) * numel_; ++j) count += p[j] - q[j] != 0.0f;
    out[static_cast<size_t>(i)] = 100.0 * static_cast<double>(count) / static_cast<double>(std::max<int64_t>(1, numel_));
  }
  return out;
}

}  // namespace bmc::compress
