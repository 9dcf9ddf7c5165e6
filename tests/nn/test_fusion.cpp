// Layer fusion (nn/fusion.h): a ResNet with every batch norm + ReLU and add + ReLU fused gives
// the same outputs, input gradients and parameter gradients, bitwise, as the same ResNet with the
// fusion turned off by a pass-through transform on each ReLU; transforms on either side still see
// the tensor they would see unfused.
#include <gtest/gtest.h>

#include "models/init.h"
#include "models/registry.h"
#include "nn/batch_norm.h"
#include "nn/layers.h"
#include "nn/model.h"
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
  int calls = 0, relus = 0;
  for (const nn::GraphNode& node : separate->graph().nodes())
    if (node.role == nn::NodeRole::Activation) {
      node.module->add_transform(nn::TransformSide::Output, std::make_unique<PassThrough>(&calls));
      ++relus;
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
  fused->set_training(false);
  separate->set_training(false);
  EXPECT_TRUE(test::bitwise_equal(fused->forward(x), separate->forward(x))) << arch << " eval";
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

}  // namespace
}  // namespace bmc
