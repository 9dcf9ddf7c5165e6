#include "tests/support/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace bmc::test {
namespace {

double weighted_sum(const Tensor& y, const Tensor& r) {
  const float* py = y.data<float>();
  const float* pr = r.data<float>();
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += double(py[i]) * pr[i];
  return s;
}

}  // namespace

::testing::AssertionResult check_gradient(const std::function<Tensor()>& forward, Tensor& input,
                                          const Tensor& analytic, const Tensor& r,
                                          const GradCheckOptions& options) {
  if (analytic.shape() != input.shape())
    return ::testing::AssertionFailure() << "analytic gradient " << analytic.describe()
                                         << " does not match input " << input.describe();
  float* x = input.data<float>();
  const float* g = analytic.data<float>();
  const int64_t n = input.numel();
  const int64_t stride = std::max<int64_t>(1, n / std::max<int64_t>(1, options.max_elements));
  std::ostringstream report;
  int64_t checked = 0, skipped = 0, bad = 0;
  for (int64_t j = 0; j < n; j += stride) {
    if (options.at_kink && options.at_kink(j)) {
      ++skipped;
      continue;
    }
    const float saved = x[j];
    x[j] = saved + options.step;
    const double plus = weighted_sum(forward(), r);
    x[j] = saved - options.step;
    const double minus = weighted_sum(forward(), r);
    x[j] = saved;
    const double numeric = (plus - minus) / (2.0 * options.step);
    const double a = g[j];
    const double scale = std::max({std::fabs(a), std::fabs(numeric), 1.0});
    ++checked;
    if (std::fabs(a - numeric) > options.tol * scale) {
      if (bad < 10) report << "\n  [" << j << "] analytic " << a << " numeric " << numeric;
      ++bad;
    }
  }
  if (checked == 0) return ::testing::AssertionFailure() << "no element checked (" << skipped << " at kinks)";
  if (bad == 0) return ::testing::AssertionSuccess() << checked << " checked, " << skipped << " skipped";
  return ::testing::AssertionFailure() << bad << " of " << checked << " gradients wrong (" << skipped
                                       << " skipped at kinks):" << report.str();
}

}  // namespace bmc::test
