#include "compress/quant/act_stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace bmc::compress {

void ActStatsAccumulator::add(const Tensor& x, bool relu) {
  BMC_CHECK(x.rank() >= 1 && x.dim(0) > 0, "activation statistics: empty batch ", x.describe());
  add(x.to_vector<float>(), x.dim(0), relu);
}

void ActStatsAccumulator::add(const std::vector<float>& host, int64_t n, bool relu) {
  const int64_t total = static_cast<int64_t>(host.size());
  BMC_CHECK(n > 0 && total % n == 0 && total > 0, "activation statistics: ", total, " values for ", n, " samples");
  const int64_t per = total / n;
  auto value = [&](int64_t i) { return relu ? std::max(host[i], 0.0f) : host[i]; };
  double bmin = value(0), bmax = value(0);
  for (int64_t s = 0; s < n; ++s) {
    double smin = value(s * per), smax = smin;
    for (int64_t i = s * per; i < (s + 1) * per; ++i) {
      const double v = value(i);
      smin = std::min(smin, v);
      smax = std::max(smax, v);
      sum_ += v;
      sum_sq_ += v * v;
    }
    if (per > 1) {
      sum_avg_min_ += smin;
      sum_avg_max_ += smax;
      ++avg_count_;
    }
    bmin = std::min(bmin, smin);
    bmax = std::max(bmax, smax);
  }
  if (per == 1) {  // one value per sample: average the per-batch extremes (Distiller's fallback)
    sum_avg_min_ += bmin;
    sum_avg_max_ += bmax;
    ++avg_count_;
  }
  min_ = elements_ == 0 ? bmin : std::min(min_, bmin);
  max_ = elements_ == 0 ? bmax : std::max(max_, bmax);
  elements_ += total;
  ++batches_;
}

ActStats ActStatsAccumulator::stats() const {
  BMC_CHECK(elements_ > 0, "activation statistics: no batches observed");
  ActStats s;
  s.min = min_;
  s.max = max_;
  s.avg_min = sum_avg_min_ / static_cast<double>(avg_count_);
  s.avg_max = sum_avg_max_ / static_cast<double>(avg_count_);
  s.mean = sum_ / static_cast<double>(elements_);
  s.std = std::sqrt(std::max(0.0, sum_sq_ / static_cast<double>(elements_) - s.mean * s.mean));
  s.batches = batches_;
  return s;
}

}  // namespace bmc::compress
