#include "core/rng.h"

#include <cmath>
#include <numbers>

#include "kernels/philox.cuh"

namespace bmc {

namespace {

float* cpu_f32(Tensor& t, const char* what) {
  BMC_CHECK(t.device().is_cpu() && t.dtype() == DType::F32, what, ": expected an f32 CPU tensor, got ",
            t.describe());
  return t.data<float>();
}

}  // namespace

void fill_uniform(Tensor& t, uint64_t seed, uint32_t stream, float lo, float hi) {
  float* p = cpu_f32(t, "fill_uniform");
  const double span = static_cast<double>(hi) - lo;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float u = u32_to_unit_float(philox_u32(seed, static_cast<uint64_t>(i), stream, 0));
    p[i] = static_cast<float>(lo + span * u);
  }
}

void fill_normal(Tensor& t, uint64_t seed, uint32_t stream, float mean, float std) {
  float* p = cpu_f32(t, "fill_normal");
  constexpr double kTwoTo32 = 4294967296.0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint64_t j = 2 * static_cast<uint64_t>(i);
    const double u1 = (philox_u32(seed, j, stream, 0) + 0.5) / kTwoTo32;
    const double u2 = philox_u32(seed, j + 1, stream, 0) / kTwoTo32;
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    p[i] = static_cast<float>(mean + static_cast<double>(std) * z);
  }
}

}  // namespace bmc
