// kernels/elementwise.cu under host emulation vs the CPU ops, bitwise, at several grid sizes.
#define BMC_KNS kernels_emu
#include <gtest/gtest.h>

#include <vector>

#include "kernels/elementwise.h"
#include "ops/elementwise.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

constexpr int64_t kN = 1000;  // not a multiple of the block size

TEST(ElementwiseKernelEmu, AddAxpyScaleAreBitwiseTheCpuLoops) {
  const Tensor a = test::random_uniform({kN}, 50), b = test::random_uniform({kN}, 51);
  Tensor expected({kN});
  ops::add_forward(expected, a, b);
  ops::axpy(expected, 0.7f, b);
  ops::scale(expected, -1.3f);
  for (int grid_limit : {1, 2, 7, 0}) {
    Tensor y({kN});
    kernels_emu::add(y.data<float>(), a.data<float>(), b.data<float>(), kN, nullptr, grid_limit);
    kernels_emu::axpy(y.data<float>(), 0.7f, b.data<float>(), kN, nullptr, grid_limit);
    kernels_emu::scale(y.data<float>(), -1.3f, kN, nullptr, grid_limit);
    EXPECT_TRUE(test::bitwise_equal(y, expected)) << "grid_limit " << grid_limit;
  }
}

TEST(ElementwiseKernelEmu, ClampIsBitwiseTheCpuLoopAndMatchesHandValues) {
  const Tensor x = test::random_uniform({kN}, 54);  // uniform in [-1, 1)
  Tensor expected = x.clone();
  ops::clamp(expected, -0.25f, 0.5f);
  const float* e = expected.data<float>();
  const float* in = x.data<float>();
  for (int64_t i = 0; i < kN; ++i) {
    const float want = in[i] < -0.25f ? -0.25f : (in[i] > 0.5f ? 0.5f : in[i]);
    ASSERT_EQ(e[i], want) << i;
  }
  for (int grid_limit : {1, 3, 0}) {
    Tensor y = x.clone();
    kernels_emu::clamp(y.data<float>(), -0.25f, 0.5f, kN, nullptr, grid_limit);
    EXPECT_TRUE(test::bitwise_equal(y, expected)) << "grid_limit " << grid_limit;
  }
  Tensor bad = x.clone();
  EXPECT_THROW(ops::clamp(bad, 1.0f, 0.0f), Error);
}

TEST(ElementwiseKernelEmu, AddIntoAnInputAndEmptyLaunch) {
  Tensor a = test::random_uniform({kN}, 52);
  const Tensor b = test::random_uniform({kN}, 53);
  Tensor expected({kN});
  ops::add_forward(expected, a, b);
  kernels_emu::add(a.data<float>(), a.data<float>(), b.data<float>(), kN, nullptr, 3);
  EXPECT_TRUE(test::bitwise_equal(a, expected));
  EXPECT_NO_THROW(kernels_emu::scale(a.data<float>(), 2.0f, 0, nullptr));  // n == 0: no launch
}

TEST(ElementwiseKernelEmu, CounterAddsReachEveryElementAtEveryGrid) {
  for (int grid_limit : {1, 2, 5, 0}) {
    std::vector<int64_t> counters(kN, 7);
    kernels_emu::add_i64(counters.data(), -3, kN, nullptr, grid_limit);
    kernels_emu::add_i64(counters.data(), int64_t{1} << 35, kN, nullptr, grid_limit);
    for (const int64_t c : counters) ASSERT_EQ(c, (int64_t{1} << 35) + 4) << "grid_limit " << grid_limit;
  }
}

}  // namespace
}  // namespace bmc
