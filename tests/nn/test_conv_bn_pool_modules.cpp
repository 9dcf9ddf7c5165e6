// Conv2d, BatchNorm2d, pooling and residual modules: finite-difference gradients of inputs and
// parameters through the module API, BatchNorm train/eval behaviour and its batch counter.
#include <gtest/gtest.h>

#include <cmath>

#include "io/state_dict.h"
#include "models/init.h"
#include "nn/batch_norm.h"
#include "nn/module.h"
#include "nn/conv.h"
#include "nn/model.h"
#include "nn/pool.h"
#include "nn/residual.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace bmc {
namespace {

// Checks d(sum r * y)/d(x) and /d(every parameter) of model(x) against finite differences, at
// most 48 spread elements per tensor (each costs two whole forwards).
test::GradCheckOptions sparse_check(float step = 1e-2f, float tol = 2e-2f) {
  test::GradCheckOptions options;
  options.step = step;
  options.tol = tol;
  options.max_elements = 48;
  return options;
}

void expect_gradients(nn::Model& model, Tensor& x, uint64_t seed,
                      const test::GradCheckOptions& options = sparse_check()) {
  auto forward = [&] { return model.forward(x); };
  const Tensor y = forward();
  const Tensor r = test::random_uniform(y.shape(), seed);
  model.zero_grad();
  const Tensor dx = model.backward(r);
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r, options)) << "input";
  for (nn::Parameter* p : model.parameters()) {
    const Tensor analytic = p->grad.clone();
    EXPECT_TRUE(test::check_gradient(forward, p->value, analytic, r, options)) << p->name;
  }
}

TEST(Conv2dModule, GradientsMatchFiniteDifferences) {
  nn::Model model("conv", std::make_unique<nn::Conv2d>(3, 5, 3, 2, 1), Device::cpu());
  models::initialize(model, 1);
  EXPECT_EQ(model.parameter("weight").fan_in, 27);
  EXPECT_EQ(model.parameter("bias").shape, Shape({5}));
  Tensor x = test::random_uniform({3, 3, 5, 7}, 2);
  EXPECT_EQ(model.forward(x).shape(), Shape({3, 5, 3, 4}));
  expect_gradients(model, x, 3);
}

TEST(Conv2dModule, RejectsWrongChannelCount) {
  nn::Model model("conv", std::make_unique<nn::Conv2d>(3, 5, 3), Device::cpu());
  EXPECT_THROW(model.forward(Tensor::zeros({1, 4, 5, 5})), Error);
  EXPECT_THROW(model.forward(Tensor::zeros({4, 5})), Error);
}

TEST(BatchNorm2dModule, TrainingGradientsMatchFiniteDifferences) {
  nn::Model model("bn", std::make_unique<nn::BatchNorm2d>(3), Device::cpu());
  models::initialize(model, 4);
  Tensor x = test::random_uniform({4, 3, 3, 5}, 5);
  expect_gradients(model, x, 6);
}

TEST(BatchNorm2dModule, TrainingUpdatesStatisticsEvaluationUsesThem) {
  nn::Model model("bn", std::make_unique<nn::BatchNorm2d>(2), Device::cpu());
  models::initialize(model, 1, "kaiming_normal", "fixed");
  // Channel 0 holds 1..8, channel 1 holds 2 * (1..8): batch means 4.5 / 9.
  std::vector<float> values(16);
  for (int i = 0; i < 8; ++i) values[i] = static_cast<float>(i + 1), values[8 + i] = 2.0f * (i + 1);
  const Tensor x = Tensor::from_vector(values, {1, 2, 2, 4});
  const Tensor y_train = model.forward(x);
  const std::vector<float> y = y_train.to_vector<float>();
  EXPECT_NEAR(y[0], (1 - 4.5) / std::sqrt(5.25 + 1e-5), 1e-5);  // biased variance 5.25
  auto sd = io::state_dict(model);
  EXPECT_EQ(sd[2].first, "running_mean");
  EXPECT_TRUE(test::all_close(*sd[2].second, Tensor::from_vector<float>({0.45f, 0.9f}, {2}), 1e-6f, 0));
  // Unbiased variance 6 (channel 0) and 24: 0.9 * 1 + 0.1 * var.
  EXPECT_TRUE(test::all_close(*sd[3].second, Tensor::from_vector<float>({1.5f, 3.3f}, {2}), 1e-6f, 0));
  EXPECT_EQ(sd[4].first, "num_batches_tracked");
  EXPECT_EQ(sd[4].second->to_vector<int64_t>()[0], 1);

  model.set_training(false);
  const std::vector<float> y_eval = model.forward(x).to_vector<float>();
  EXPECT_NEAR(y_eval[0], (1 - 0.45) / std::sqrt(1.5 + 1e-5), 1e-5);
  EXPECT_EQ(io::state_dict(model)[4].second->to_vector<int64_t>()[0], 1);  // eval does not count
}

TEST(PoolModules, ShapesAndGradients) {
  auto chain = std::make_unique<nn::Chain>();
  chain->append("max", std::make_unique<nn::MaxPool2d>(3, 2, 1));
  chain->append("avg", std::make_unique<nn::AvgPool2d>(2, 1));
  chain->append("global", std::make_unique<nn::GlobalAvgPool>());
  nn::Model model("pools", std::move(chain), Device::cpu());
  Tensor x = test::random_uniform({2, 3, 7, 6}, 8);  // max: 4x3, avg: 3x2, global: (2, 3)
  EXPECT_EQ(model.forward(x).shape(), Shape({2, 3}));
  // Step 1e-3: distinct uniform values, so a window maximum never switches within +-1e-3 here.
  expect_gradients(model, x, 9, sparse_check(1e-3f));
}

TEST(ResidualModule, BlockGradientsMatchFiniteDifferences) {
  auto block = std::make_unique<nn::ResidualBlock>("Block");
  block->add_main("conv1", std::make_unique<nn::Conv2d>(2, 4, 3, 2, 1, false));
  block->add_main("bn1", std::make_unique<nn::BatchNorm2d>(4), true);
  block->add_main("conv2", std::make_unique<nn::Conv2d>(4, 4, 3, 1, 1, false));
  auto shortcut = std::make_unique<nn::Sequential>();
  shortcut->append(std::make_unique<nn::Conv2d>(2, 4, 1, 2, 0, false));
  block->set_shortcut("shortcut", std::move(shortcut));
  nn::Model model("block", std::move(block), Device::cpu());
  models::initialize(model, 10);
  std::vector<std::string> names;
  for (nn::Parameter* p : model.parameters()) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                                             "shortcut.0.weight"}));
  Tensor x = test::random_uniform({3, 2, 5, 5}, 11);
  // Two ReLUs: a loose tolerance covers points that sit near a kink at this step.
  expect_gradients(model, x, 12, sparse_check(1e-3f, 5e-2f));
}

}  // namespace
}  // namespace bmc
