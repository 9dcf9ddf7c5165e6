#include "models/init.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace bmc::models {

namespace {

void init_weight(Tensor& w, const nn::Parameter& p, uint64_t seed, uint32_t stream, const std::string& initializer) {
  const double fan_in = static_cast<double>(p.fan_in);
  if (initializer == "kaiming_normal" || initializer == "binary") {
    fill_normal(w, seed, stream, 0.0f, static_cast<float>(std::sqrt(2.0 / fan_in)));
    if (initializer == "kaiming_normal") return;
    float* v = w.data<float>();
    const int64_t n = w.numel();
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += v[i];
    const double mean = sum / n;
    for (int64_t i = 0; i < n; ++i) sq += (v[i] - mean) * (v[i] - mean);
    const float sigma = static_cast<float>(std::sqrt(sq / std::max<int64_t>(1, n - 1)));
    for (int64_t i = 0; i < n; ++i) v[i] = v[i] > 0 ? sigma : (v[i] < 0 ? -sigma : 0.0f);
  } else if (initializer == "kaiming_uniform") {
    const float bound = static_cast<float>(std::sqrt(6.0 / fan_in));
    fill_uniform(w, seed, stream, -bound, bound);
  } else {
    BMC_FAIL("unknown initializer '", initializer, "'; valid: kaiming_normal, kaiming_uniform, binary");
  }
}

void init_bn(Tensor& v, nn::ParamKind kind, uint64_t seed, uint32_t stream, const std::string& bn_initializer) {
  const bool weight = kind == nn::ParamKind::BnWeight;
  if (bn_initializer == "uniform") {
    weight ? fill_uniform(v, seed, stream, 0.0f, 1.0f) : v.fill(0.0f);
  } else if (bn_initializer == "positivenegative") {
    weight ? fill_uniform(v, seed, stream, -1.0f, 1.0f) : v.fill(0.0f);
  } else if (bn_initializer == "fixed") {
    v.fill(weight ? 1.0f : 0.0f);
  } else if (bn_initializer == "oneone") {
    v.fill(1.0f);
  } else {
    BMC_FAIL("unknown batchnorm initializer '", bn_initializer, "'; valid: uniform, fixed, oneone, positivenegative");
  }
}

}  // namespace

void initialize(nn::Model& model, uint64_t seed, const std::string& initializer, const std::string& bn_initializer) {
  const auto& params = model.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    nn::Parameter& p = *params[i];
    const uint32_t stream = static_cast<uint32_t>(i);
    Tensor host(p.shape, DType::F32);
    switch (p.kind) {
      case nn::ParamKind::Weight: init_weight(host, p, seed, stream, initializer); break;
      case nn::ParamKind::Bias: {
        const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(p.fan_in)));
        fill_uniform(host, seed, stream, -bound, bound);
        break;
      }
      case nn::ParamKind::BnWeight:
      case nn::ParamKind::BnBias: init_bn(host, p.kind, seed, stream, bn_initializer); break;
    }
    p.value.copy_from(host);
  }
  for (nn::Buffer* b : model.buffers()) {
    if (b->dtype == DType::F32) {
      b->value.fill(b->initial_value);
    } else {
      b->value.fill_zero();
    }
  }
}

}  // namespace bmc::models
