// The compression seam: weight parametrizations with a backward and trainable state of their own,
// activation transforms with a backward, the optimizer's rules for that state, and training
// checkpoints that carry it (bitwise resume, shape changes, refusal of another configuration).
// Expected values are worked out by hand loops here, never by the code under test.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/run_dir.h"
#include "io/safetensors.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "ops/elementwise.h"
#include "optim/sgd.h"
#include "tests/support/compare.h"
#include "tests/train/synthetic.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace bmc {
namespace {


// effective[k][j] = alpha[k] * w[k][j], alpha trainable (K), clamped to [0.25, 4], no weight decay.
class RowScale : public nn::Parametrization {
 public:
  explicit RowScale(int64_t rows, float initial = 1.0f) {
    alpha_.trainable = true;
    alpha_.weight_decay = false;
    alpha_.clamp_min = 0.25f;
    alpha_.clamp_max = 4.0f;
    alpha_.allocate({rows}, Device::cpu(), initial);
  }
  std::string describe() const override { return "row_scale"; }
  void visit_state(const nn::StateVisitor& v) override { v.tensor("alpha", alpha_); }
  Tensor forward(const Tensor& w) override {
    w_ = w.clone();
    Tensor y = w.clone();
    const int64_t k = w.dim(0), per = w.numel() / k;
    for (int64_t r = 0; r < k; ++r)
      for (int64_t j = 0; j < per; ++j) y.data<float>()[r * per + j] *= alpha_.value.data<float>()[r];
    return y;
  }
  Tensor backward(const Tensor& dy) override {
    Tensor dx = dy.clone();
    const int64_t k = dy.dim(0), per = dy.numel() / k;
    for (int64_t r = 0; r < k; ++r)
      for (int64_t j = 0; j < per; ++j) {
        dx.data<float>()[r * per + j] *= alpha_.value.data<float>()[r];
        alpha_.grad.data<float>()[r] += dy.data<float>()[r * per + j] * w_.data<float>()[r * per + j];
      }
    return dx;
  }
  nn::StateTensor& alpha() { return alpha_; }

 private:
  nn::StateTensor alpha_;
  Tensor w_;
};

// A state tensor whose shape the owner may change (as BSQ's bit planes do).
class Planes : public nn::Parametrization {
 public:
  Planes() {
    planes_.trainable = true;
    planes_.resizable = true;
    planes_.allocate({2, 3}, Device::cpu(), 0.5f);
  }
  std::string describe() const override { return "planes"; }
  void visit_state(const nn::StateVisitor& v) override {
    v.tensor("planes", planes_);
    v.scalar("bits", bits_);
  }
  bool passthrough() const override { return true; }
  Tensor forward(const Tensor& w) override { return w.view(w.shape()); }
  Tensor backward(const Tensor& dy) override { return dy.view(dy.shape()); }
  void state_loaded() override { ++loads_; }
  nn::StateTensor planes_;
  double bits_ = 8;
  int loads_ = 0;
};

std::unique_ptr<nn::Model> one_linear() {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Linear>(3, 2));
  auto model = std::make_unique<nn::Model>("test_linear", std::move(net), Device::cpu());
  model->values().copy_from(test::random_uniform({model->num_parameters()}, 5));
  return model;
}

TEST(Parametrization, IdentityIsTheStoredTensorItself) {
  auto model = one_linear();
  nn::Parameter& w = model->parameter("0.weight");
  EXPECT_EQ(w.effective().raw(), w.value.raw()) << "no chain: no copy";
  EXPECT_EQ(&w.effective_grad(), &w.grad);
  model->masks().data<float>()[0] = 0.0f;
  model->masks_changed();
  ASSERT_EQ(w.parametrizations.links().size(), 1u);
  EXPECT_EQ(w.parametrizations.links()[0]->describe(), "mask");
  EXPECT_EQ(w.effective().raw(), w.value.raw()) << "a mask alone is a passthrough";
  model->reset_masks();
  EXPECT_TRUE(w.parametrizations.empty());
}

TEST(Parametrization, GradientsReachTheStoredWeightAndTheOwnState) {
  auto model = one_linear();
  nn::Parameter& w = model->parameter("0.weight");
  const std::vector<float> w0 = w.value.to_vector<float>();
  auto scale = std::make_unique<RowScale>(2);
  RowScale& rs = *scale;
  rs.alpha().value.data<float>()[0] = 2.0f;
  rs.alpha().value.data<float>()[1] = 0.5f;
  w.parametrizations.append(std::move(scale));
  const Tensor x = test::random_uniform({4, 3}, 8);
  const Tensor dy = test::random_uniform({4, 2}, 9);
  model->zero_grad();
  const std::vector<float> y = model->forward(x).to_vector<float>();
  model->backward(dy);
  const float alpha[2] = {2.0f, 0.5f};
  const auto xs = x.to_vector<float>(), ds = dy.to_vector<float>(), b = model->parameter("0.bias").value.to_vector<float>();
  const auto dw = w.grad.to_vector<float>();
  for (int k = 0; k < 2; ++k) {
    double dalpha = 0;
    for (int j = 0; j < 3; ++j) {
      double g = 0;  // dL/dW_eff[k][j] = sum_n dy[n][k] x[n][j]
      for (int n = 0; n < 4; ++n) g += ds[n * 2 + k] * xs[n * 3 + j];
      EXPECT_NEAR(dw[k * 3 + j], alpha[k] * g, 1e-5) << k << "," << j;
      dalpha += g * w0[k * 3 + j];
    }
    EXPECT_NEAR(rs.alpha().grad.data<float>()[k], dalpha, 1e-5) << k;
    for (int n = 0; n < 4; ++n) {
      double want = b[k];
      for (int j = 0; j < 3; ++j) want += alpha[k] * w0[k * 3 + j] * xs[n * 3 + j];
      EXPECT_NEAR(y[n * 2 + k], want, 1e-5);
    }
  }
}

TEST(Parametrization, OptimizerUpdatesStateWithItsRules) {
  auto model = one_linear();
  auto scale = std::make_unique<RowScale>(2);
  RowScale& rs = *scale;
  model->parameter("0.weight").parametrizations.append(std::move(scale));
  rs.alpha().grad.data<float>()[0] = 1.0f;    // 1 - 0.5 * 1 = 0.5
  rs.alpha().grad.data<float>()[1] = -10.0f;  // 1 + 0.5 * 10 = 6, clamped to 4
  optim::Sgd sgd(*model, {0.9f, 0.1f, false});  // the weight decay must not touch alpha
  sgd.step(0.5f);
  EXPECT_EQ(rs.alpha().value.data<float>()[0], 0.5f);
  EXPECT_EQ(rs.alpha().value.data<float>()[1], 4.0f);
  EXPECT_EQ(rs.alpha().momentum.data<float>()[0], 1.0f);
  EXPECT_EQ(rs.alpha().momentum.data<float>()[1], -10.0f);
  std::vector<std::string> names;
  model->visit_state([&](const std::string& name, nn::StateTensor&) { names.push_back(name); });
  EXPECT_EQ(names, std::vector<std::string>{"0.parametrizations.weight.0.alpha"});
  model->zero_grad();
  EXPECT_EQ(rs.alpha().grad.data<float>()[1], 0.0f);
}

// y = 3x forward, dx = 3dy backward: the module's backward must run it.
class Triple : public nn::ActivationTransform {
 public:
  std::string describe() const override { return "triple"; }
  Tensor forward(const Tensor& x) override {
    Tensor y = x.clone();
    ops::scale(y, 3.0f);
    return y;
  }
  Tensor backward(const Tensor& dy) override {
    Tensor dx = dy.clone();
    ops::scale(dx, 3.0f);
    return dx;
  }
};

TEST(ActivationTransform, ForwardAndBackwardRunAroundTheModule) {
  nn::ReLU relu;
  relu.add_transform(nn::TransformSide::Output, std::make_unique<Triple>());
  const Tensor x = Tensor::from_vector<float>({-1.0f, 2.0f}, {1, 2});
  EXPECT_EQ(relu.forward(x).to_vector<float>(), (std::vector<float>{0.0f, 6.0f}));
  const Tensor dy = Tensor::from_vector<float>({1.0f, 1.0f}, {1, 2});
  EXPECT_EQ(relu.backward(dy).to_vector<float>(), (std::vector<float>{0.0f, 3.0f}));
  EXPECT_EQ(relu.remove_transforms("triple"), 1u);
  EXPECT_EQ(relu.forward(x).to_vector<float>(), (std::vector<float>{0.0f, 2.0f}));
}

class SeamCheckpointTest : public test::SyntheticTraining {
 protected:
  SeamCheckpointTest() : SyntheticTraining("bmc_seam") {}

  // The synthetic MLP with a trainable row scale on its first layer; returns final weights + alpha.
  std::vector<float> train_scaled(const std::string& name, int64_t stop_after) {
    auto model = test::synthetic_model(3);
    model->parameter("1.weight").parametrizations.append(std::make_unique<RowScale>(16));
    const io::RunDir dir = io::RunDir::open(root().string(), name, "0", {{"n", name}});
    train::TrainOptions options;
    options.log_every = 100;
    options.checkpoint_every = 3;
    options.stop_after_step = stop_after;
    train::Trainer(*model, train_, test_, hp_, dir, options).run();
    std::vector<float> out = model->values().to_vector<float>();
    model->visit_state([&](const std::string&, nn::StateTensor& t) {
      for (float v : t.value.to_vector<float>()) out.push_back(v);
    });
    return out;
  }

};

TEST_F(SeamCheckpointTest, KilledAndResumedEqualsUninterruptedBitwise) {
  const std::vector<float> whole = train_scaled("whole", -1);
  train_scaled("killed", 5);
  const std::vector<float> resumed = train_scaled("killed", -1);
  EXPECT_EQ(resumed, whole);
  // The state trained: alpha moved away from its initial 1.
  const std::vector<float> fresh = [&] {
    auto m = test::synthetic_model(3);
    return m->values().to_vector<float>();
  }();
  ASSERT_GT(whole.size(), fresh.size());
  int moved = 0;
  for (size_t i = fresh.size(); i < whole.size(); ++i) moved += whole[i] != 1.0f;
  EXPECT_GT(moved, 8);
}

TEST_F(SeamCheckpointTest, StateChangesShapeAndAnotherConfigurationIsRefused) {
  const io::RunDir dir = io::RunDir::open(root().string(), "shape", "0", {{"n", "shape"}});
  {
    auto model = test::synthetic_model(3);
    auto planes = std::make_unique<Planes>();
    planes->planes_.resize({4, 3});  // the owner dropped / added planes
    planes->planes_.value.fill(0.75f);
    planes->bits_ = 5;
    model->parameter("3.weight").parametrizations.append(std::move(planes));
    model->masks().data<float>()[7] = 0.0f;
    model->masks_changed();
    train::save_checkpoint(dir, *model, 4);
  }
  const io::SafeTensors state = io::load_safetensors(dir.file("checkpoint_4_state.safetensors"));
  EXPECT_TRUE(state.contains("3.parametrizations.weight.0.planes"));
  EXPECT_TRUE(state.contains("3.parametrizations.weight.0.planes.momentum"));
  EXPECT_TRUE(state.contains("masks"));
  auto model = test::synthetic_model(3);
  auto planes = std::make_unique<Planes>();
  Planes& p = *planes;
  model->parameter("3.weight").parametrizations.append(std::move(planes));
  train::load_checkpoint(dir, *model, 4);
  EXPECT_EQ(p.planes_.value.shape(), (Shape{4, 3}));
  EXPECT_EQ(p.planes_.momentum.shape(), (Shape{4, 3}));
  EXPECT_EQ(p.planes_.value.to_vector<float>(), std::vector<float>(12, 0.75f));
  EXPECT_EQ(p.bits_, 5.0);
  EXPECT_EQ(p.loads_, 1);
  EXPECT_EQ(model->masks().data<float>()[7], 0.0f) << "masks are part of the training checkpoint";
  EXPECT_EQ(model->parameter("1.weight").parametrizations.links().front()->describe(), "mask");
  auto bare = test::synthetic_model(3);
  EXPECT_THROW(train::load_checkpoint(dir, *bare, 4), Error) << "saved with planes, loaded without";
}

}  // namespace
}  // namespace bmc
