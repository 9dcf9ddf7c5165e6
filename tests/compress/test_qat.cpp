// Quantization-aware training on the seam: the weight fake-quant parametrization against codes
// worked out by hand, the straight-through gradient, the activation range's bias-corrected moving
// average, pruned weights staying zero under QAT, and a killed QAT run resuming bitwise.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "compress/prune/model_pruning.h"
#include "compress/quant/qat.h"
#include "io/run_dir.h"
#include "models/init.h"
#include "models/registry.h"
#include "nn/layers.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/train/synthetic.h"
#include "train/trainer.h"

namespace bmc {
namespace {


TEST(Qat, WeightFakeQuantCodesWorkedByHand) {
  compress::WeightFakeQuant fq(3, QuantMode::Sym, false);
  // 3-bit symmetric: n = 3, range max|w| = 1.5, scale = 3 / 1.5 = 2 codes per unit.
  // codes round(2w): 1.0 -> 2, -1.5 -> -3, 0.2 -> 0 (0.4), 0.75 -> 2 (1.5 rounds half to even).
  const Tensor w = Tensor::from_vector<float>({1.0f, -1.5f, 0.2f, 0.75f}, {2, 2});
  EXPECT_EQ(fq.forward(w).to_vector<float>(), (std::vector<float>{1.0f, -1.5f, 0.0f, 1.0f}));
  // The range is the weights' own: every code is inside, the gradient passes unchanged.
  const Tensor dy = Tensor::from_vector<float>({0.5f, -2.0f, 3.0f, 1.0f}, {2, 2});
  EXPECT_EQ(fq.backward(dy).to_vector<float>(), dy.to_vector<float>());
  compress::WeightFakeQuant per_row(3, QuantMode::Sym, true);
  const Tensor w2 = Tensor::from_vector<float>({0.5f, -1.0f, 0.2f, 0.75f}, {2, 2});
  // row 0: max 1.0, scale 3: 0.5 -> 1.5 -> 2 -> 2/3; -1 -> -3 -> -1. row 1: max 0.75, scale 4:
  // 0.2 -> 0.8 -> 1 -> 0.25; 0.75 -> 3 -> 0.75.
  const auto y2 = per_row.forward(w2).to_vector<float>();
  EXPECT_FLOAT_EQ(y2[0], 2.0f / 3.0f);
  EXPECT_EQ(y2[1], -1.0f);
  EXPECT_EQ(y2[2], 0.25f);
  EXPECT_EQ(y2[3], 0.75f);
}

TEST(Qat, ActivationRangeIsABiasCorrectedMovingAverage) {
  nn::ReLU owner;
  compress::ActivationFakeQuant aq(8, QuantMode::Sym, 0.5, owner);
  owner.set_training(true);
  aq.forward(Tensor::from_vector<float>({0.0f, 2.0f}, {1, 2}));
  // biased max = 0.5 * 0 + 0.5 * 2 = 1, corrected 1 / (1 - 0.5) = 2: scale 127 / 2.
  EXPECT_FLOAT_EQ(aq.params().scale, 127.0f / 2.0f);
  aq.forward(Tensor::from_vector<float>({0.0f, 4.0f}, {1, 2}));
  // biased = 0.5 * 1 + 0.5 * 4 = 2.5, corrected 2.5 / (1 - 0.25) = 10 / 3.
  EXPECT_NEAR(aq.params().scale, 127.0 / (10.0 / 3.0), 1e-4);
  owner.set_training(false);
  const float before = aq.params().scale;
  // Evaluation: the range is frozen; 5 lies outside it and clamps to the top code.
  const auto y = aq.forward(Tensor::from_vector<float>({5.0f, 1.0f}, {1, 2})).to_vector<float>();
  EXPECT_EQ(aq.params().scale, before);
  EXPECT_FLOAT_EQ(y[0], 127.0f / before);
  // Clipped straight-through gradient: zero where the value was clamped.
  EXPECT_EQ(aq.backward(Tensor::from_vector<float>({1.0f, 1.0f}, {1, 2})).to_vector<float>(),
            (std::vector<float>{0.0f, 1.0f}));
}

class QatTrainTest : public test::SyntheticTraining {
 protected:
  QatTrainTest() : SyntheticTraining("bmc_qat") {}

  std::unique_ptr<nn::Model> run(const std::string& name, int64_t stop_after, bool masked) {
    auto model = test::synthetic_model(3);
    if (masked) {
      std::vector<float> m = model->masks().to_vector<float>();
      for (size_t i = 0; i < 64 * 16; i += 2) m[i] = 0.0f;
      model->masks().copy_from(Tensor::from_vector(m, model->masks().shape()));
      compress::zero_masked_state(*model);
    }
    compress::QatConfig config;
    config.bits_weights = 2;
    config.bits_acts = 4;
    compress::attach_qat(*model, config);
    const io::RunDir dir = io::RunDir::open(root().string(), name, "0", {{"n", name}});
    train::TrainOptions options;
    options.log_every = 100;
    options.checkpoint_every = 3;
    options.stop_after_step = stop_after;
    last_ = train::Trainer(*model, train_, test_, hp_, dir, options).run();
    return model;
  }

  train::TrainResult last_;
};

TEST_F(QatTrainTest, KilledAndResumedEqualsUninterruptedBitwiseAndPrunedStayZero) {
  auto whole = run("whole", -1, true);
  const double whole_top1 = last_.test.top1;
  run("killed", 5, true);
  auto resumed = run("killed", -1, true);
  EXPECT_TRUE(test::bitwise_equal(resumed->values(), whole->values()));
  EXPECT_EQ(last_.test.top1, whole_top1) << "the activation ranges resumed too";
  const auto w = whole->parameter("1.weight").value.to_vector<float>();
  for (size_t i = 0; i < w.size(); i += 2) ASSERT_EQ(w[i], 0.0f) << i;
  EXPECT_GT(whole_top1, 0.5) << "W2A4 still learns the 4-class problem";
  compress::detach_qat(*whole);
  EXPECT_EQ(whole->parameter("1.weight").parametrizations.links().size(), 1u) << "the mask stays";
}

// QAT on the GPU: one training forward/backward of a masked, W4A4 cifar_resnet_20 against the CPU
// from the same weights and mask (the seam's device path: chains, transforms, their backwards).
TEST(QatGpu, MaskedResnetStepMatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  auto cpu = models::make_model("cifar_resnet_20", Device::cpu());
  auto gpu = models::make_model("cifar_resnet_20", Device::cuda(0));
  models::initialize(*cpu, 31);
  models::initialize(*gpu, 31);
  std::vector<float> mask(static_cast<size_t>(cpu->num_parameters()), 1.0f);
  for (size_t i = 0; i < mask.size(); i += 3) mask[i] = 0.0f;
  for (nn::Model* m : {cpu.get(), gpu.get()}) {
    m->masks().copy_from(Tensor::from_vector(mask, {m->num_parameters()}));
    compress::zero_masked_state(*m);
    compress::QatConfig config;
    config.bits_weights = 4;
    config.bits_acts = 4;
    compress::attach_qat(*m, config);
    m->set_training(true);
    m->zero_grad();
  }
  const Tensor x = test::random_uniform({4, 3, 32, 32}, 32);
  const Tensor dy = test::random_uniform({4, 10}, 33);
  const Tensor y_cpu = cpu->forward(x);
  const Tensor y_gpu = gpu->forward(x.to(Device::cuda(0)));
  // Fake quantization turns float differences into whole steps now and then: compare in bulk.
  EXPECT_TRUE(test::nmse_below(y_gpu.to(Device::cpu()), y_cpu, 1e-3));
  cpu->backward(dy);
  gpu->backward(dy.to(Device::cuda(0)));
  EXPECT_TRUE(test::nmse_below(gpu->grads().to(Device::cpu()), cpu->grads(), 1e-3));
}

}  // namespace
}  // namespace bmc
