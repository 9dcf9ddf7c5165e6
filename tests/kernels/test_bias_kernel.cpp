// kernels/bias.cu under host emulation vs the CPU reference, at several grid sizes.
#define BMC_KNS kernels_emu
#include "kernels/bias.h"

#include <gtest/gtest.h>

#include "tests/support/compare.h"

namespace bmc {
namespace {

TEST(BiasKernelEmu, AddChannelBiasIsBitwiseTheCpuLoop) {
  const int64_t outer = 3, channels = 5, inner = 7;
  for (int grid_limit : {1, 2, 7, 0}) {
    Tensor y = test::random_uniform({outer, channels, inner}, 1);
    const Tensor b = test::random_uniform({channels}, 2);
    Tensor expected = y.clone();
    float* e = expected.data<float>();
    for (int64_t i = 0; i < y.numel(); ++i) e[i] += b.data<float>()[(i / inner) % channels];
    kernels_emu::add_channel_bias(y.data<float>(), b.data<float>(), outer, channels, inner, nullptr, grid_limit);
    EXPECT_TRUE(test::bitwise_equal(y, expected)) << "grid_limit " << grid_limit;
  }
}

TEST(BiasKernelEmu, ChannelBiasGradSumsEachChannelAndAccumulates) {
  const int64_t outer = 4, channels = 3, inner = 9;
  const Tensor dy = test::random_small_ints({outer, channels, inner}, 3);
  Tensor db = Tensor::from_vector<float>({1, 2, 3}, {channels});
  std::vector<float> expected = {1, 2, 3};
  for (int64_t i = 0; i < dy.numel(); ++i) expected[(i / inner) % channels] += dy.data<float>()[i];
  kernels_emu::channel_bias_grad(db.data<float>(), dy.data<float>(), outer, channels, inner, nullptr);
  EXPECT_EQ(db.to_vector<float>(), expected);  // integer-valued: exact in any order
}

}  // namespace
}  // namespace bmc
