// kernels/elementwise.cu under host emulation vs the CPU ops, bitwise, at several grid sizes.
#define BMC_KNS kernels_emu
#include "kernels/elementwise.h"

#include <gtest/gtest.h>

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

TEST(ElementwiseKernelEmu, AddIntoAnInputAndEmptyLaunch) {
  Tensor a = test::random_uniform({kN}, 52);
  const Tensor b = test::random_uniform({kN}, 53);
  Tensor expected({kN});
  ops::add_forward(expected, a, b);
  kernels_emu::add(a.data<float>(), a.data<float>(), b.data<float>(), kN, nullptr, 3);
  EXPECT_TRUE(test::bitwise_equal(a, expected));
  EXPECT_NO_THROW(kernels_emu::scale(a.data<float>(), 2.0f, 0, nullptr));  // n == 0: no launch
}

}  // namespace
}  // namespace bmc
