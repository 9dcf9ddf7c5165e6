// Tensor comparisons that report the first mismatches with their indices (at most 10).
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "core/tensor.h"

namespace bmc::test {

// |a - b| <= atol + rtol * |b| elementwise (b is the reference).
::testing::AssertionResult all_close(const std::vector<float>& actual, const std::vector<float>& expected,
                                     float atol, float rtol);
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, float atol, float rtol);
// Bitwise equality (for integer data, masks, or float results of shared cores).
::testing::AssertionResult bitwise_equal(const Tensor& actual, const Tensor& expected);
// sum((a-b)^2) / sum(b^2) <= max_nmse (ggml's nmse); also reports max abs difference.
::testing::AssertionResult nmse_below(const Tensor& actual, const Tensor& expected, double max_nmse);

// Deterministic pseudo-random test data (Philox, seeded): uniform in [lo, hi).
Tensor random_uniform(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// Small integers in [-range, range] stored as f32: GEMM/conv sums of these are exact in f32.
Tensor random_small_ints(const Shape& shape, uint64_t seed, int range = 4);

}  // namespace bmc::test
