// OpenLTH initialisation: deterministic per seed, the right distributions per parameter kind,
// BatchNorm buffers reset, and the same weights on every device.
#include <gtest/gtest.h>

#include <cmath>

#include "io/state_dict.h"
#include "models/init.h"
#include "models/registry.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

struct Moments {
  double mean = 0, std = 0, min = 1e30, max = -1e30;
};

Moments moments(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  Moments m;
  for (float x : v) {
    m.mean += x;
    m.min = std::min<double>(m.min, x);
    m.max = std::max<double>(m.max, x);
  }
  m.mean /= v.size();
  for (float x : v) m.std += (x - m.mean) * (x - m.mean);
  m.std = std::sqrt(m.std / v.size());
  return m;
}

TEST(Init, SameSeedSameWeightsDifferentSeedDifferent) {
  auto a = models::make_model("cifar_resnet_8", Device::cpu());
  auto b = models::make_model("cifar_resnet_8", Device::cpu());
  models::initialize(*a, 42);
  models::initialize(*b, 42);
  EXPECT_TRUE(test::bitwise_equal(a->values(), b->values()));
  models::initialize(*b, 43);
  const std::vector<float> va = a->values().to_vector<float>(), vb = b->values().to_vector<float>();
  int64_t equal = 0;
  for (size_t i = 0; i < va.size(); ++i) equal += va[i] == vb[i];
  EXPECT_LT(equal, static_cast<int64_t>(va.size() / 100));  // only exact zeros (BN biases) coincide
}

TEST(Init, KaimingNormalStdAndPyTorchBiasDefaults) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  models::initialize(*model, 7);
  const Moments w = moments(model->parameter("fc_layers.0.weight").value);  // 235,200 draws
  EXPECT_NEAR(w.mean, 0.0, 0.002);
  EXPECT_NEAR(w.std / std::sqrt(2.0 / 784), 1.0, 0.02);
  const Moments fc = moments(model->parameter("fc.weight").value);
  EXPECT_NEAR(fc.std / std::sqrt(2.0 / 100), 1.0, 0.1);
  const Moments bias = moments(model->parameter("fc_layers.0.bias").value);
  const double bound = 1.0 / std::sqrt(784.0);
  EXPECT_GE(bias.min, -bound);
  EXPECT_LT(bias.max, bound);
  EXPECT_NEAR(bias.std, bound / std::sqrt(3.0), 0.15 * bound / std::sqrt(3.0));
}

TEST(Init, ConvFanInAndBatchNormUniform) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  models::initialize(*model, 3);
  const Moments conv = moments(model->parameter("blocks.8.conv2.weight").value);  // 36,864 draws, fan_in 576
  EXPECT_NEAR(conv.std / std::sqrt(2.0 / 576), 1.0, 0.03);
  const Moments gamma = moments(model->parameter("blocks.8.bn2.weight").value);
  EXPECT_GE(gamma.min, 0.0);
  EXPECT_LT(gamma.max, 1.0);
  EXPECT_GT(gamma.std, 0.1);
  const Moments beta = moments(model->parameter("blocks.8.bn2.bias").value);
  EXPECT_EQ(beta.min, 0.0);
  EXPECT_EQ(beta.max, 0.0);
}

TEST(Init, OtherInitializersAndBufferReset) {
  auto model = models::make_model("cifar_resnet_8", Device::cpu());
  model->set_training(true);
  model->forward(test::random_uniform({2, 3, 8, 8}, 1));  // moves running stats and the counter
  models::initialize(*model, 9, "kaiming_uniform", "fixed");
  const Moments w = moments(model->parameter("blocks.0.conv1.weight").value);
  const double bound = std::sqrt(6.0 / 144);
  EXPECT_GE(w.min, -bound);
  EXPECT_LT(w.max, bound);
  EXPECT_EQ(moments(model->parameter("bn.weight").value).min, 1.0);
  for (const auto& [key, t] : io::state_dict(*model)) {
    if (key == "bn.running_var") {
      EXPECT_EQ(moments(*t).min, 1.0);
    } else if (key == "bn.running_mean") {
      EXPECT_EQ(moments(*t).max, 0.0);
    } else if (key == "bn.num_batches_tracked") {
      EXPECT_EQ(t->to_vector<int64_t>()[0], 0);
    }
  }
  models::initialize(*model, 9, "binary", "positivenegative");
  const Moments binary = moments(model->parameter("fc.weight").value);
  EXPECT_NEAR(binary.max, -binary.min, 1e-7);
  EXPECT_LT(moments(model->parameter("bn.weight").value).min, 0.0);
  EXPECT_THROW(models::initialize(*model, 9, "orthogonal"), Error);
  EXPECT_THROW(models::initialize(*model, 9, "kaiming_normal", "zeros"), Error);
}

TEST(InitGpu, SameWeightsOnGpuAndCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  auto cpu = models::make_model("cifar_resnet_20", Device::cpu());
  auto gpu = models::make_model("cifar_resnet_20", Device::cuda(0));
  models::initialize(*cpu, 11);
  models::initialize(*gpu, 11);
  EXPECT_TRUE(test::bitwise_equal(gpu->values().to(Device::cpu()), cpu->values()));
}

}  // namespace
}  // namespace bmc
