// Masked SGD: PyTorch golden steps, masks keep weights and momentum exactly zero, the emulated
// kernel is bitwise the CPU path at several grid sizes, and the LR schedule follows OpenLTH.
#define BMC_KNS kernels_emu
#include "kernels/sgd.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ops/elementwise.h"
#include "ops/sgd.h"
#include "optim/lr_schedule.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

class SgdGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(SgdGolden, MatchesTorchOptimSgd) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  SgdHyper h;
  h.lr = std::stof(f.metadata.at("lr"));
  h.momentum = std::stof(f.metadata.at("momentum"));
  h.weight_decay = std::stof(f.metadata.at("weight_decay"));
  h.nesterov = f.metadata.at("nesterov") == "1";
  Tensor w = f.at("w0").clone();
  Tensor m = Tensor::zeros(w.shape()), mask = Tensor::full(w.shape(), 1.0f);
  for (int s = 0; s < std::stoi(f.metadata.at("steps")); ++s) {
    ops::masked_sgd_step(w, m, f.at("g" + std::to_string(s)), mask, h);
    EXPECT_GOLDEN(w, f, "w" + std::to_string(s + 1));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SgdGolden, ::testing::Values("sgd_plain", "sgd_momentum_wd", "sgd_nesterov_wd"));

TEST(MaskedSgd, MaskedWeightsAndMomentumStayExactlyZero) {
  const int64_t n = 1000;
  Tensor w = test::random_uniform({n}, 1), m = Tensor::zeros({n});
  Tensor mask({n});
  for (int64_t i = 0; i < n; ++i) mask.data<float>()[i] = (i % 3 == 0) ? 0.0f : 1.0f;
  const SgdHyper h{0.1f, 0.9f, 1e-4f, true};
  for (int step = 0; step < 5; ++step) ops::masked_sgd_step(w, m, test::random_uniform({n}, 10 + step), mask, h);
  for (int64_t i = 0; i < n; i += 3) {
    EXPECT_EQ(std::signbit(w.data<float>()[i]), false);
    EXPECT_EQ(w.data<float>()[i], 0.0f);
    EXPECT_EQ(m.data<float>()[i], 0.0f);
  }
  EXPECT_NE(w.data<float>()[1], 0.0f);
}

TEST(MaskedSgdKernelEmu, BitwiseEqualToCpuAtSeveralGridSizes) {
  const int64_t n = 1031;
  const SgdHyper h{0.05f, 0.9f, 5e-4f, true};
  const Tensor g = test::random_uniform({n}, 3);
  Tensor mask({n});
  for (int64_t i = 0; i < n; ++i) mask.data<float>()[i] = (i % 7 == 0) ? 0.0f : 1.0f;
  Tensor w_cpu = test::random_uniform({n}, 4), m_cpu = test::random_uniform({n}, 5);
  Tensor w0 = w_cpu.clone(), m0 = m_cpu.clone();
  ops::masked_sgd_step(w_cpu, m_cpu, g, mask, h);
  for (int grid_limit : {1, 3, 8, 0}) {
    Tensor w = w0.clone(), m = m0.clone();
    kernels_emu::masked_sgd(w.data<float>(), m.data<float>(), g.data<float>(), mask.data<float>(), n, h, nullptr,
                            grid_limit);
    EXPECT_TRUE(test::bitwise_equal(w, w_cpu)) << "grid_limit " << grid_limit;
    EXPECT_TRUE(test::bitwise_equal(m, m_cpu)) << "grid_limit " << grid_limit;
  }
}

// A captured step's update reads its learning rate from memory as it runs: the same bits as the
// value passed directly, on the CPU, under the emulated kernel, and on the GPU.
TEST(MaskedSgd, ALearningRateReadFromMemoryIsTheValuePassed) {
  const int64_t n = 517;
  const SgdHyper h{0.03f, 0.9f, 5e-4f, false};
  const Tensor g = test::random_uniform({n}, 11), mask = Tensor::full({n}, 1.0f);
  Tensor w = test::random_uniform({n}, 12), m = test::random_uniform({n}, 13);
  Tensor w2 = w.clone(), m2 = m.clone(), w3 = w.clone(), m3 = m.clone();
  ops::masked_sgd_step(w, m, g, mask, h);
  const float lr = 0.03f;
  SgdHyper from_memory{99.0f, 0.9f, 5e-4f, false, &lr};
  ops::masked_sgd_step(w2, m2, g, mask, from_memory);
  EXPECT_TRUE(test::bitwise_equal(w2, w));
  EXPECT_TRUE(test::bitwise_equal(m2, m));
  kernels_emu::masked_sgd(w3.data<float>(), m3.data<float>(), g.data<float>(), mask.data<float>(), n, from_memory,
                          nullptr, 3);
  EXPECT_TRUE(test::bitwise_equal(w3, w));
  EXPECT_TRUE(test::bitwise_equal(m3, m));
}

TEST(MaskedSgd, RejectsBadArguments) {
  Tensor w({4}), m({4}), g({4}), mask({3});
  EXPECT_THROW(ops::masked_sgd_step(w, m, g, mask, SgdHyper{}), Error);
  Tensor mask4({4});
  EXPECT_THROW(ops::masked_sgd_step(w, m, g, mask4, SgdHyper{-1.0f, 0, 0, false}), Error);
}

TEST(MaskedSgdGpu, BitwiseEqualToCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const int64_t n = 100003;
  const SgdHyper h{0.05f, 0.9f, 5e-4f, false};
  const Tensor g = test::random_uniform({n}, 6), mask = test::random_small_ints({n}, 7, 1);
  Tensor mask01({n});
  for (int64_t i = 0; i < n; ++i) mask01.data<float>()[i] = mask.data<float>()[i] > 0 ? 1.0f : 0.0f;
  Tensor w = test::random_uniform({n}, 8), m = test::random_uniform({n}, 9);
  Tensor gw = w.to(gpu), gm = m.to(gpu);
  ops::masked_sgd_step(w, m, g, mask01, h);
  ops::masked_sgd_step(gw, gm, g.to(gpu), mask01.to(gpu), h);
  EXPECT_TRUE(test::bitwise_equal(gw, w));
  EXPECT_TRUE(test::bitwise_equal(gm, m));
  const Tensor lr = Tensor::from_vector<float>({0.02f}, {}, gpu);
  SgdHyper from_memory = h;
  from_memory.lr = 7.0f;
  from_memory.lr_source = lr.data<float>();
  ops::masked_sgd_step(gw, gm, g.to(gpu), mask01.to(gpu), from_memory);
  SgdHyper direct = h;
  direct.lr = 0.02f;
  ops::masked_sgd_step(w, m, g, mask01, direct);
  EXPECT_TRUE(test::bitwise_equal(gw, w));
  EXPECT_TRUE(test::bitwise_equal(gm, m));
}

// The clamped state update is, bit for bit, the masked step with an all-ones mask followed by the
// separate clamp (what it replaces), on the CPU and under the emulated kernel at several grids.
TEST(ClampedSgd, BitwiseTheMaskedStepThenTheClamp) {
  for (const int64_t n : {int64_t{1}, int64_t{255}, int64_t{1031}, int64_t{70001}}) {
    const SgdHyper h{0.5f, 0.9f, 5e-4f, false};
    const Tensor g = test::random_uniform({n}, 21);
    // Planes live in [0, 2]; lr 0.5 takes some of them out on either side.
    Tensor w = test::random_uniform({n}, 22, 0.0f, 2.0f), m = test::random_uniform({n}, 23);
    if (n > 3) w.data<float>()[3] = NAN;
    if (n > 5) w.data<float>()[5] = -0.0f;  // a negative zero the clamp keeps, as ops::clamp does
    Tensor w_ref = w.clone(), m_ref = m.clone(), w0 = w.clone(), m0 = m.clone();
    ops::masked_sgd_step(w_ref, m_ref, g, Tensor::full({n}, 1.0f), h);
    ops::clamp(w_ref, 0.0f, 2.0f);
    ops::clamped_sgd_step(w, m, g, h, 0.0f, 2.0f);
    EXPECT_TRUE(test::bitwise_equal(w, w_ref)) << n;
    EXPECT_TRUE(test::bitwise_equal(m, m_ref)) << n;
    for (int grid_limit : {1, 3, 8, 0}) {
      Tensor we = w0.clone(), me = m0.clone();
      kernels_emu::clamped_sgd(we.data<float>(), me.data<float>(), g.data<float>(), n, h, 0.0f, 2.0f, nullptr,
                               grid_limit);
      EXPECT_TRUE(test::bitwise_equal(we, w_ref)) << n << " grid_limit " << grid_limit;
      EXPECT_TRUE(test::bitwise_equal(me, m_ref)) << n << " grid_limit " << grid_limit;
    }
  }
}

TEST(ClampedSgd, InfiniteBoundsAreTheMaskedStepWithAllOnes) {
  const int64_t n = 777;
  const SgdHyper h{0.1f, 0.9f, 1e-4f, true};
  const Tensor g = test::random_uniform({n}, 31);
  Tensor w = test::random_uniform({n}, 32), m = Tensor::zeros({n});
  Tensor w_ref = w.clone(), m_ref = m.clone();
  ops::masked_sgd_step(w_ref, m_ref, g, Tensor::full({n}, 1.0f), h);
  ops::clamped_sgd_step(w, m, g, h, -INFINITY, INFINITY);
  EXPECT_TRUE(test::bitwise_equal(w, w_ref));
  EXPECT_TRUE(test::bitwise_equal(m, m_ref));
}

TEST(ClampedSgd, RejectsBadArguments) {
  Tensor w({4}), m({4}), g({3});
  EXPECT_THROW(ops::clamped_sgd_step(w, m, g, SgdHyper{}, 0.0f, 1.0f), Error);
  Tensor g4({4});
  EXPECT_THROW(ops::clamped_sgd_step(w, m, g4, SgdHyper{}, 2.0f, 1.0f), Error);
  EXPECT_THROW(ops::clamped_sgd_step(w, m, g4, SgdHyper{0.1f, -0.5f, 0, false}, 0.0f, 1.0f), Error);
}

TEST(ClampedSgdGpu, BitwiseEqualToCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const int64_t n = 100003;
  const SgdHyper h{0.5f, 0.9f, 5e-4f, false};
  const Tensor g = test::random_uniform({n}, 41);
  Tensor w = test::random_uniform({n}, 42, 0.0f, 2.0f), m = test::random_uniform({n}, 43);
  Tensor gw = w.to(gpu), gm = m.to(gpu);
  ops::clamped_sgd_step(w, m, g, h, 0.0f, 2.0f);
  ops::clamped_sgd_step(gw, gm, g.to(gpu), h, 0.0f, 2.0f);
  EXPECT_TRUE(test::bitwise_equal(gw, w));
  EXPECT_TRUE(test::bitwise_equal(gm, m));
}

TEST(LrSchedule, MultiStepAndWarmupAsOpenLth) {
  optim::LrSchedule s;
  s.base_lr = 0.1f;
  s.milestones = {100, 200};
  s.gamma = 0.1f;
  EXPECT_FLOAT_EQ(s.at(0), 0.1f);
  EXPECT_FLOAT_EQ(s.at(99), 0.1f);
  EXPECT_FLOAT_EQ(s.at(100), 0.01f);
  EXPECT_FLOAT_EQ(s.at(250), 0.001f);
  s.warmup_steps = 10;
  EXPECT_FLOAT_EQ(s.at(0), 0.0f);
  EXPECT_FLOAT_EQ(s.at(5), 0.05f);
  EXPECT_FLOAT_EQ(s.at(10), 0.1f);
}

}  // namespace
}  // namespace bmc
