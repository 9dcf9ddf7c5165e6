// Host Philox fills: deterministic per (seed, stream), distinct streams, right moments.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"

namespace bmc {
namespace {

TEST(Rng, FillsAreDeterministicPerSeedAndStream) {
  Tensor a({1000}), b({1000}), c({1000});
  fill_normal(a, 1, 0);
  fill_normal(b, 1, 0);
  fill_normal(c, 1, 1);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  // A longer fill starts with the shorter one: values depend on the index only.
  Tensor longer({1500});
  fill_normal(longer, 1, 0);
  const std::vector<float> l = longer.to_vector<float>();
  EXPECT_EQ(std::vector<float>(l.begin(), l.begin() + 1000), a.to_vector<float>());
}

TEST(Rng, NormalAndUniformMoments) {
  Tensor n({200000}), u({200000});
  fill_normal(n, 3, 2, 1.0f, 2.0f);
  fill_uniform(u, 3, 2, -1.0f, 3.0f);
  double sn = 0, qn = 0, su = 0, lo = 1e9, hi = -1e9;
  for (float x : n.to_vector<float>()) sn += x, qn += x * x;
  for (float x : u.to_vector<float>()) su += x, lo = std::min<double>(lo, x), hi = std::max<double>(hi, x);
  const double mean = sn / 2e5, var = qn / 2e5 - mean * mean;
  EXPECT_NEAR(mean, 1.0, 0.02);
  EXPECT_NEAR(std::sqrt(var), 2.0, 0.02);
  EXPECT_NEAR(su / 2e5, 1.0, 0.02);
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 3.0);
}

TEST(Rng, RejectsNonHostOrNonFloatTensors) {
  Tensor i32({4}, DType::I32);
  EXPECT_THROW(fill_uniform(i32, 1, 0), Error);
}

}  // namespace
}  // namespace bmc
