// End to end: a Linear-ReLU-Linear MLP memorises a fixed synthetic batch with softmax
// cross-entropy and SGD. On the CPU ops the loss falls below 1% of its start; run again with the
// loss and the SGD step going through the emulated CUDA kernels (kernels/softmax_xent.cu,
// kernels/sgd.cu compiled for the host) the final loss is bitwise the same.
#define BMC_KNS kernels_emu
#include <gtest/gtest.h>

#include "kernels/sgd.h"
#include "kernels/softmax_xent.h"
#include "models/init.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "ops/loss.h"
#include "optim/sgd.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

constexpr int64_t kBatch = 32, kInputs = 8, kHidden = 32, kClasses = 4;
constexpr int kSteps = 100;  // the loss is below 1% of its start after about 60
const SgdHyper kHyper{0.2f, 0.9f, 0.0f, false};

std::unique_ptr<nn::Model> make_mlp() {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Linear>(kInputs, kHidden));
  net->append(std::make_unique<nn::ReLU>());
  net->append(std::make_unique<nn::Linear>(kHidden, kClasses));
  auto model = std::make_unique<nn::Model>("mlp", std::move(net), Device::cpu());
  models::initialize(*model, 2024);
  return model;
}

Tensor make_labels() {
  std::vector<int32_t> labels(kBatch);
  for (int64_t i = 0; i < kBatch; ++i) labels[i] = static_cast<int32_t>((i * 7 + i / 5) % kClasses);
  return Tensor::from_vector(labels, {kBatch});
}

struct LossTrace {
  float first = 0, last = 0;
};

// emulated: loss forward/backward and the SGD step run the emulated kernels instead of the ops.
LossTrace train(bool emulated, int grid_limit) {
  auto model = make_mlp();
  const Tensor x = test::random_uniform({kBatch, kInputs}, 77);
  const Tensor labels = make_labels();
  optim::Sgd sgd(*model, {kHyper.momentum, kHyper.weight_decay, kHyper.nesterov});
  Tensor loss(Shape{}), probs({kBatch, kClasses}), dlogits({kBatch, kClasses}), row_loss({kBatch});
  LossTrace trace;
  for (int step = 0; step < kSteps; ++step) {
    model->zero_grad();
    const Tensor logits = model->forward(x);
    if (emulated) {
      kernels_emu::softmax_xent_forward(loss.data<float>(), probs.data<float>(), row_loss.data<float>(),
                                        logits.data<float>(), labels.data<int32_t>(), kBatch, kClasses, nullptr,
                                        grid_limit);
      kernels_emu::softmax_xent_backward(dlogits.data<float>(), probs.data<float>(), labels.data<int32_t>(), kBatch,
                                         kClasses, nullptr, grid_limit);
    } else {
      ops::softmax_cross_entropy_forward(loss, probs, logits, labels);
      ops::softmax_cross_entropy_backward(dlogits, probs, labels);
    }
    model->backward(dlogits);
    if (emulated) {
      kernels_emu::masked_sgd(model->values().data<float>(), model->momentum().data<float>(),
                              model->grads().data<float>(), model->masks().data<float>(), model->num_parameters(),
                              kHyper, nullptr, grid_limit);
    } else {
      sgd.step(kHyper.lr);
    }
    const float value = loss.to_vector<float>()[0];
    if (step == 0) trace.first = value;
    trace.last = value;
  }
  return trace;
}

TEST(MlpTrain, CpuLossFallsBelowOnePercentOfStart) {
  const LossTrace cpu = train(false, 0);
  EXPECT_GT(cpu.first, 1.0f);  // about ln 4 for a fresh network
  EXPECT_LT(cpu.last, 0.01f * cpu.first) << "start " << cpu.first << ", end " << cpu.last;
}

TEST(MlpTrain, EmulatedKernelsReachBitwiseTheCpuLoss) {
  const LossTrace cpu = train(false, 0);
  for (const int grid_limit : {0, 3}) {
    const LossTrace emu = train(true, grid_limit);
    EXPECT_EQ(emu.first, cpu.first) << "grid_limit " << grid_limit;
    EXPECT_EQ(emu.last, cpu.last) << "grid_limit " << grid_limit;
  }
}

}  // namespace
}  // namespace bmc
