// Layer fusion (nn/fusion.h): a ResNet with every batch norm + ReLU and add + ReLU fused (and in
// eval mode every convolution + batch norm + ReLU, and a block's last one with its add + ReLU)
// gives the same outputs, input gradients and
// parameter gradients, bitwise, as the same ResNet with the fusion turned off by pass-through
// transforms; transforms on either side still see the tensor they would see unfused.
#include <gtest/gtest.h>

#include "models/init.h"
#include "models/registry.h"
#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/residual.h"
#include "ops/elementwise.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

// Returns its input and counts the calls: on a ReLU it keeps the ReLU a module of its own.
class PassThrough : public nn::ActivationTransform {
 public:
  explicit PassThrough(int* calls) : calls_(calls) {}
  std::string describe() const override { return "pass_through"; }
  Tensor forward(const Tensor& x) override {
    ++*calls_;
    return x.view(x.shape());
  }

 private:
  int* calls_;
};

class Negate : public nn::ActivationTransform {
 public:
  std::string describe() const override { return "negate"; }
  Tensor forward(const Tensor& x) override {
    Tensor y = x.clone();
    ops::scale(y, -1.0f);
    return y;
  }
  Tensor backward(const Tensor& dy) override {
    Tensor dx = dy.clone();
    ops::scale(dx, -1.0f);
    return dx;
  }
};

struct Pass {
  Tensor y, dx, grads;
};

Pass train_pass(nn::Model& model, const Tensor& x, uint64_t seed) {
  model.set_training(true);
  model.zero_grad();
  Pass p;
  p.y = model.forward(x);
  p.dx = model.backward(test::random_uniform(p.y.shape(), seed));
  p.grads = model.grads().clone();
  return p;
}

void expect_fusion_changes_nothing(const std::string& arch, const Shape& input_shape) {
  auto fused = models::make_model(arch, Device::cpu());
  auto separate = models::make_model(arch, Device::cpu());
  models::initialize(*fused, 5);
  separate->values().copy_from(fused->values());
  // Pass-through transforms on every ReLU and on every batch norm's output: nothing fuses.
  int calls = 0, relus = 0, bn_calls = 0;
  for (const nn::GraphNode& node : separate->graph().nodes()) {
    if (node.role == nn::NodeRole::Activation) {
      node.module->add_transform(nn::TransformSide::Output, std::make_unique<PassThrough>(&calls));
      ++relus;
    }
    if (node.role == nn::NodeRole::BatchNorm)
      node.module->add_transform(nn::TransformSide::Output, std::make_unique<PassThrough>(&bn_calls));
  }
  ASSERT_GT(relus, 0);
  const Tensor x = test::random_uniform(input_shape, 6);
  for (uint64_t step = 0; step < 2; ++step) {  // the second step sees updated running statistics
    calls = 0;
    const Pass a = train_pass(*fused, x, 7 + step), b = train_pass(*separate, x, 7 + step);
    EXPECT_EQ(calls, relus) << arch << ": a ReLU with a transform was fused";
    EXPECT_TRUE(test::bitwise_equal(a.y, b.y)) << arch << " output, step " << step;
    EXPECT_TRUE(test::bitwise_equal(a.dx, b.dx)) << arch << " input gradient, step " << step;
    EXPECT_TRUE(test::bitwise_equal(a.grads, b.grads)) << arch << " parameter gradients, step " << step;
  }
  // Eval: every batch norm (and ReLU after it) inside the convolution before it, on the fused side.
  fused->set_training(false);
  separate->set_training(false);
  EXPECT_TRUE(test::bitwise_equal(fused->forward(x), separate->forward(x))) << arch << " eval";
  EXPECT_THROW(fused->backward(test::random_uniform(fused->forward(x).shape(), 9)), Error)
      << arch << ": a backward through an eval-mode batch norm run inside its convolution";
}

TEST(Fusion, CifarResnetFusedEqualsSeparateBitwise) { expect_fusion_changes_nothing("cifar_resnet_8", {3, 3, 8, 8}); }

// The stem's pair sits before max pooling. Bottleneck blocks run the same residual-block code
// with two pairs instead of one.
TEST(Fusion, ImagenetResnetFusedEqualsSeparateBitwise) { expect_fusion_changes_nothing("resnet18", {2, 3, 16, 16}); }

// relu(-bn(x)) >= 0; a ReLU wrongly run inside the batch norm, before the negation, would give
// -relu(bn(x)) <= 0.
TEST(Fusion, BatchNormOutputTransformRunsBeforeTheRelu) {
  auto net = std::make_unique<nn::Sequential>();
  auto& bn = net->append(std::make_unique<nn::BatchNorm2d>(2));
  net->append(std::make_unique<nn::ReLU>());
  bn.add_transform(nn::TransformSide::Output, std::make_unique<Negate>());
  nn::Model model("bn_relu", std::move(net), Device::cpu());
  model.parameter("0.weight").value.copy_from(Tensor::full({2}, 1.0f));
  const Tensor x = test::random_uniform({4, 2, 3, 3}, 8);
  int64_t positive = 0;
  for (float v : model.forward(x).to_vector<float>()) {
    EXPECT_GE(v, 0.0f);
    positive += v > 0;
  }
  EXPECT_GT(positive, 0);
  model.backward(test::random_uniform({4, 2, 3, 3}, 9));
}

// In eval mode a negation on the convolution's output keeps the batch norm outside it: the result
// is that of the same network with the filter negated (exact), which fuses.
TEST(Fusion, ConvolutionOutputTransformKeepsTheBatchNormOutside) {
  auto build = [](bool negate) {
    auto net = std::make_unique<nn::Sequential>();
    auto& conv = net->append(std::make_unique<nn::Conv2d>(3, 4, 3, 1, 1, false));
    net->append(std::make_unique<nn::BatchNorm2d>(4));
    net->append(std::make_unique<nn::ReLU>());
    if (negate) conv.add_transform(nn::TransformSide::Output, std::make_unique<Negate>());
    auto model = std::make_unique<nn::Model>("conv_bn_relu", std::move(net), Device::cpu());
    models::initialize(*model, 10);
    return model;
  };
  auto negated = build(true), plain = build(false);
  Tensor& w = plain->parameter("0.weight").value;
  ops::scale(w, -1.0f);
  // Running statistics away from 0 and 1, the same on both.
  for (auto* m : {negated.get(), plain.get()}) {
    m->parameter("1.weight").value.copy_from(test::random_uniform({4}, 11, 0.5f, 2.0f));
    m->parameter("1.bias").value.copy_from(test::random_uniform({4}, 12));
    m->set_training(false);
  }
  for (nn::Buffer* b : plain->buffers())
    if (b->name.find("running") != std::string::npos) b->value.copy_from(test::random_uniform(b->shape, 13, 0.5f, 1.5f));
  for (size_t i = 0; i < plain->buffers().size(); ++i) negated->buffers()[i]->value.copy_from(plain->buffers()[i]->value);
  const Tensor x = test::random_uniform({2, 3, 6, 6}, 14);
  EXPECT_TRUE(test::bitwise_equal(negated->forward(x), plain->forward(x)));
}

// In eval mode a residual block's last convolution adds the shortcut and applies the ReLU inside
// (checked bitwise above); a transform on either input of the add keeps the add outside, and it
// sees both inputs, every block.
TEST(Fusion, ATransformOnAnAddInputKeepsTheAddOutsideTheConvolution) {
  auto watched = models::make_model("cifar_resnet_8", Device::cpu());
  auto plain = models::make_model("cifar_resnet_8", Device::cpu());
  models::initialize(*watched, 15);
  plain->values().copy_from(watched->values());
  int calls = 0, blocks = 0;
  watched->net().visit_modules([&](const std::string&, nn::Module& m) {
    auto* block = dynamic_cast<nn::ResidualBlock*>(&m);
    if (!block) return;
    ++blocks;
    block->add_input(blocks % 2).add_transform(nn::TransformSide::Input, std::make_unique<PassThrough>(&calls));
  });
  ASSERT_GT(blocks, 0);
  watched->set_training(false);
  plain->set_training(false);
  const Tensor x = test::random_uniform({3, 3, 8, 8}, 16);
  EXPECT_TRUE(test::bitwise_equal(watched->forward(x), plain->forward(x)));
  EXPECT_EQ(calls, blocks);
}

}  // namespace
}  // namespace bmc
