// Finite-difference gradient checking (Caffe's GradientChecker idea). The scalar probed is
// L = sum_i r_i * y_i with fixed random r; the analytic gradient dL/dx comes from the op's
// backward called with dy = r. Each checked element passes if
// |analytic - numeric| <= tol * max(|analytic|, |numeric|, 1). Elements for which `at_kink`
// returns true (ReLU at 0, max-pool ties, ...) are skipped and counted.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "core/tensor.h"

namespace bmc::test {

struct GradCheckOptions {
  float step = 1e-2f;
  float tol = 2e-2f;
  int64_t max_elements = 256;  // check a deterministic spread of at most this many elements
  std::function<bool(int64_t)> at_kink;  // optional: skip element j of the input
};

// forward(): recomputes the output from the current contents of `input` (CPU, f32) and returns
// it. analytic: dL/d(input) for dy = r, same shape as input.
::testing::AssertionResult check_gradient(const std::function<Tensor()>& forward, Tensor& input,
                                          const Tensor& analytic, const Tensor& r,
                                          const GradCheckOptions& options = {});

}  // namespace bmc::test
