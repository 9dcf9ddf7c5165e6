#include "tests/support/compare.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "kernels/philox.cuh"

namespace bmc::test {

::testing::AssertionResult all_close(const std::vector<float>& actual, const std::vector<float>& expected,
                                     float atol, float rtol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "sizes differ: " << actual.size() << " vs " << expected.size();
  std::ostringstream report;
  size_t bad = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const float a = actual[i], e = expected[i];
    const bool ok = (std::isnan(a) && std::isnan(e)) || std::fabs(a - e) <= atol + rtol * std::fabs(e);
    if (ok) continue;
    if (bad < 10) report << "\n  [" << i << "] actual " << a << " expected " << e << " diff " << (a - e);
    ++bad;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << actual.size() << " elements differ (atol "
                                       << atol << ", rtol " << rtol << "):" << report.str();
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, float atol, float rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << actual.describe() << " vs " << expected.describe();
  return all_close(actual.to_vector<float>(), expected.to_vector<float>(), atol, rtol);
}

::testing::AssertionResult bitwise_equal(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape() || actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << "tensors differ in shape or dtype: " << actual.describe()
                                         << " vs " << expected.describe();
  const Tensor a = actual.to(Device::cpu()), e = expected.to(Device::cpu());
  const auto* pa = static_cast<const unsigned char*>(a.raw());
  const auto* pe = static_cast<const unsigned char*>(e.raw());
  const size_t esize = dtype_size(a.dtype());
  std::ostringstream report;
  size_t bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + i * esize, pe + i * esize, esize) == 0) continue;
    if (bad < 10) {
      report << "\n  [" << i << "]";
      if (a.dtype() == DType::F32) report << " actual " << a.data<float>()[i] << " expected " << e.data<float>()[i];
    }
    ++bad;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.numel() << " elements differ bitwise:" << report.str();
}

::testing::AssertionResult nmse_below(const Tensor& actual, const Tensor& expected, double max_nmse) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << actual.describe() << " vs " << expected.describe();
  const auto a = actual.to_vector<float>(), e = expected.to_vector<float>();
  double err = 0, ref = 0, max_abs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - e[i];
    err += d * d;
    ref += double(e[i]) * e[i];
    max_abs = std::max(max_abs, std::fabs(d));
  }
  const double nmse = ref > 0 ? err / ref : err;
  if (nmse <= max_nmse && std::isfinite(nmse)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "nmse " << nmse << " exceeds " << max_nmse << " (max abs diff "
                                       << max_abs << ")";
}

Tensor random_uniform(const Shape& shape, uint64_t seed, float lo, float hi) {
  Tensor t(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = lo + (hi - lo) * u32_to_unit_float(philox_u32(seed, i, 0xC0FFEE, 0));
  return t;
}

Tensor random_small_ints(const Shape& shape, uint64_t seed, int range) {
  Tensor t(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = static_cast<float>(static_cast<int>(u32_to_range(philox_u32(seed, i, 0x1A7, 0), 2 * range + 1)) - range);
  return t;
}

}  // namespace bmc::test
