// Adam: PyTorch golden steps (torch.optim.Adam, AMSGrad on and off), the optimizer class over a
// set of parameters, and the emulated kernel bitwise the CPU path at several grid sizes (the GPU
// parity test is in AdamGpu).
#define BMC_KNS kernels_emu
#include "kernels/adam.h"

#include <gtest/gtest.h>

#include "nn/layers.h"
#include "nn/model.h"
#include "ops/adam.h"
#include "optim/adam.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

class AdamGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(AdamGolden, MatchesTorchOptimAdam) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const float lr = std::stof(f.metadata.at("lr"));
  optim::AdamOptions o;
  o.beta1 = std::stof(f.metadata.at("beta1"));
  o.beta2 = std::stof(f.metadata.at("beta2"));
  o.eps = std::stof(f.metadata.at("eps"));
  o.amsgrad = f.metadata.at("amsgrad") == "1";
  auto net = std::make_unique<nn::Linear>(1, f.at("w0").numel(), false);
  nn::Model model("golden", std::move(net), Device::cpu());
  nn::Parameter& w = *model.parameters().at(0);
  w.value.copy_from(f.at("w0").view(w.value.shape()));
  optim::Adam adam({&w}, o);
  for (int s = 0; s < std::stoi(f.metadata.at("steps")); ++s) {
    w.grad.copy_from(f.at("g" + std::to_string(s)).view(w.grad.shape()));
    adam.step(lr);
    EXPECT_GOLDEN(w.value.view(f.at("w0").shape()), f, "w" + std::to_string(s + 1));
  }
  EXPECT_EQ(adam.steps(), std::stoi(f.metadata.at("steps")));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AdamGolden, ::testing::Values("adam_plain", "adam_amsgrad", "adam_amsgrad_small_lr"));

AdamHyper hyper() {
  AdamHyper h;
  h.amsgrad = true;
  h.step_size = 0.013f;
  h.bias2_sqrt = 0.05f;
  return h;
}

TEST(AdamKernelEmu, IsBitwiseTheCpuStep) {
  for (const int64_t n : {1, 255, 256 * 3 + 1, 10000})
    for (const int grid_limit : {1, 3, 0}) {
      Tensor w = test::random_uniform({n}, 1), m = test::random_uniform({n}, 2), v = test::random_uniform({n}, 3, 0.0f, 1.0f);
      Tensor x = test::random_uniform({n}, 4, 0.0f, 1.0f);
      const Tensor g = test::random_uniform({n}, 5);
      Tensor w2 = w.clone(), m2 = m.clone(), v2 = v.clone(), x2 = x.clone();
      ops::adam_step(w, m, v, x, g, hyper());
      kernels_emu::adam(w2.data<float>(), m2.data<float>(), v2.data<float>(), x2.data<float>(), g.data<float>(), n, hyper(),
                        nullptr, grid_limit);
      EXPECT_TRUE(test::bitwise_equal(w2, w)) << n << " " << grid_limit;
      EXPECT_TRUE(test::bitwise_equal(m2, m));
      EXPECT_TRUE(test::bitwise_equal(v2, v));
      EXPECT_TRUE(test::bitwise_equal(x2, x));
    }
}

TEST(AdamGpu, IsBitwiseTheCpuStep) {
  BMC_REQUIRE_CUDA_DEVICE();
  const int64_t n = 100003;
  Tensor w = test::random_uniform({n}, 1), m = test::random_uniform({n}, 2), v = test::random_uniform({n}, 3, 0.0f, 1.0f);
  Tensor x = test::random_uniform({n}, 4, 0.0f, 1.0f);
  const Tensor g = test::random_uniform({n}, 5);
  Tensor wg = w.to(Device::cuda(0)), mg = m.to(Device::cuda(0)), vg = v.to(Device::cuda(0)), xg = x.to(Device::cuda(0));
  ops::adam_step(w, m, v, x, g, hyper());
  ops::adam_step(wg, mg, vg, xg, g.to(Device::cuda(0)), hyper());
  EXPECT_TRUE(test::bitwise_equal(wg.to(Device::cpu()), w));
  EXPECT_TRUE(test::bitwise_equal(xg.to(Device::cpu()), x));
}

}  // namespace
}  // namespace bmc
