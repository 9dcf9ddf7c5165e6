// Activation statistics for calibration, as Distiller's QuantCalibrationStatsCollector keeps them
// per tensor: global min/max, the average of per-sample min/max (each sample's tensor viewed as
// one row; when a sample holds a single value, the per-batch min/max is averaged instead), the
// mean and the (population) standard deviation over all elements. Sums run in double, serially,
// in element order, so the result is deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace bmc::compress {

struct ActStats {
  double min = 0, max = 0, avg_min = 0, avg_max = 0, mean = 0, std = 0;
  int64_t batches = 0;
};

class ActStatsAccumulator {
 public:
  // x: (N, ...) f32 on any device (read through a host copy). relu: accumulate max(x, 0) instead.
  void add(const std::vector<float>& host, int64_t n, bool relu = false);
  void add(const Tensor& x, bool relu = false);
  ActStats stats() const;
  bool empty() const { return elements_ == 0; }

 private:
  double min_ = 0, max_ = 0;
  double sum_avg_min_ = 0, sum_avg_max_ = 0;
  int64_t avg_count_ = 0;
  double sum_ = 0, sum_sq_ = 0;
  int64_t elements_ = 0, batches_ = 0;
};

}  // namespace bmc::compress
