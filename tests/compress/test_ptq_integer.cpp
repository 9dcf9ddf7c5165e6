// The integer-only path (int8 x int8 -> int32, requantize) against the fake-quant simulation on
// small chains: an MLP with a ReLU applied outside modules, and a conv net (conv, ReLU, max pool,
// flatten, linear). The argmax must agree on >= 99.9% of inputs and every logit lie within one
// output step; asymmetric modes and unsupported layers are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compress/quant/integer_inference.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/pool.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

// ReLU applied inside the container (not a module), as OpenLTH's LeNet does it.
class LinearThenRelu : public nn::Module {
 public:
  LinearThenRelu(int64_t in, int64_t out) : Module("Stack") { fc_ = &add_child("0", std::make_unique<nn::Linear>(in, out)); }
  int describe(nn::GraphBuilder& g, const std::string& name, int input) override {
    const int fc = fc_->describe(g, join_name(name, "0"), input);
    return g.add(join_name(name, "relu"), nn::NodeRole::Activation, &relu_, {fc});
  }

 protected:
  Tensor forward_impl(const Tensor& x) override { return relu_.forward(fc_->forward(x)); }
  Tensor backward_impl(const Tensor& dy) override { return fc_->backward(relu_.backward(dy)); }

 private:
  nn::Linear* fc_;
  nn::ReLU relu_;
};

std::unique_ptr<nn::Model> mlp() {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Flatten>());
  net->append(std::make_unique<LinearThenRelu>(36, 24));
  net->append(std::make_unique<nn::Linear>(24, 10));
  auto model = std::make_unique<nn::Model>("mlp", std::move(net), Device::cpu());
  model->values().copy_from(test::random_uniform({model->num_parameters()}, 5, -0.4f, 0.4f));
  return model;
}

std::unique_ptr<nn::Model> convnet() {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Conv2d>(1, 4, 3, 1, 1));
  net->append(std::make_unique<nn::ReLU>());
  net->append(std::make_unique<nn::MaxPool2d>(2, 2));
  net->append(std::make_unique<nn::Conv2d>(4, 5, 3, 2, 0));
  net->append(std::make_unique<nn::ReLU>());
  net->append(std::make_unique<nn::Flatten>());
  net->append(std::make_unique<nn::Linear>(5 * 1 * 1, 10));
  auto model = std::make_unique<nn::Model>("convnet", std::move(net), Device::cpu());
  model->values().copy_from(test::random_uniform({model->num_parameters()}, 6, -0.5f, 0.5f));
  return model;
}

void expect_integer_matches_simulation(nn::Model& model, const Shape& input) {
  compress::QuantConfig config;
  compress::PostTrainQuantizer q(model, config);
  for (int i = 0; i < 3; ++i) q.observe(test::random_uniform(input, 100 + i));
  q.quantize();
  model.set_training(false);
  Shape probe_shape = input;
  probe_shape[0] = 500;
  const Tensor probe = test::random_uniform(probe_shape, 42);
  const auto sim = model.forward(probe).to_vector<float>();
  const auto ints = compress::integer_forward(q, probe).to_vector<float>();
  ASSERT_EQ(sim.size(), ints.size());
  const float step = 1.0f / q.layers()[q.order().back()].out.scale;
  int agree = 0;
  for (size_t n = 0; n < 500; ++n) {
    const auto* a = &sim[n * 10];
    const auto* b = &ints[n * 10];
    agree += (std::max_element(a, a + 10) - a) == (std::max_element(b, b + 10) - b);
    for (int k = 0; k < 10; ++k) ASSERT_LE(std::fabs(a[k] - b[k]), step * 1.001f) << "sample " << n;
  }
  EXPECT_GE(agree, 499) << "argmax agreement >= 99.9% (at most one of 500 differs)";
}

TEST(PtqInteger, MlpWithReluOutsideModulesMatchesSimulation) {
  auto model = mlp();
  expect_integer_matches_simulation(*model, {16, 1, 6, 6});
}

TEST(PtqInteger, ConvNetMatchesSimulation) {
  auto model = convnet();
  expect_integer_matches_simulation(*model, {16, 1, 6, 6});
}

TEST(PtqInteger, RefusesAsymmetricModesAndUnquantizedModels) {
  auto model = mlp();
  compress::QuantConfig config;
  config.mode = QuantMode::AsymU;
  compress::PostTrainQuantizer q(*model, config);
  q.observe(test::random_uniform({4, 1, 6, 6}, 1));
  EXPECT_THROW(compress::check_integer_path(q), Error) << "not quantized yet";
  q.quantize();
  EXPECT_THROW(compress::integer_forward(q, test::random_uniform({4, 1, 6, 6}, 2)), Error);
}

}  // namespace
}  // namespace bmc
