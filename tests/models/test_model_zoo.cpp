// The model zoo: parameter counts, state_dict keys (order, dtype, shape) equal to PyTorch's
// (tests/golden/gen_models.py), forward shapes, name parsing and default hyper-parameters.
#include <gtest/gtest.h>

#include <sstream>

#include "io/state_dict.h"
#include "models/registry.h"
#include "train/defaults.h"
#include "tests/support/fixtures.h"

namespace bmc {
namespace {

std::string keys_of(nn::Model& model) {
  std::ostringstream out;
  bool first = true;
  for (const auto& [key, t] : io::state_dict(model)) {
    out << (first ? "" : "\n") << key << " " << dtype_name(t->dtype()) << " ";
    const auto dims = t->shape().to_vector();
    for (size_t i = 0; i < dims.size(); ++i) out << (i ? "," : "") << dims[i];
    first = false;
  }
  return out.str();
}

struct ZooCase {
  const char* name;
  int64_t parameters;
  const char* keys_fixture;  // nullptr: no PyTorch fixture for this model
};

class ModelZoo : public ::testing::TestWithParam<ZooCase> {};

TEST_P(ModelZoo, ParameterCountAndKeysMatchPyTorch) {
  const ZooCase c = GetParam();
  auto model = models::make_model(c.name, Device::cpu());
  EXPECT_EQ(model->num_parameters(), c.parameters);
  if (c.keys_fixture == nullptr) return;
  const io::SafeTensors f = test::load_fixture(c.keys_fixture);
  EXPECT_EQ(f.at("num_parameters").to_vector<int64_t>()[0], c.parameters);
  EXPECT_EQ(keys_of(*model), f.metadata.at("keys"));
}

INSTANTIATE_TEST_SUITE_P(
    Models, ModelZoo,
    ::testing::Values(ZooCase{"mnist_lenet_300_100", 266610, "model_mnist_lenet_300_100_io"},
                      ZooCase{"cifar_resnet_20", 272474, "model_cifar_resnet_20_io"},
                      ZooCase{"resnet18", 11689512, "model_resnet18_keys"},
                      ZooCase{"resnet50", 25557032, "model_resnet50_keys"},
                      // (784*50+50) + (50*10+10); LeNet-5 by hand: 156 + 2416 + 48120 + 10164 + 850.
                      ZooCase{"mnist_lenet_50", 39760, nullptr}, ZooCase{"mnist_lenet5", 61706, nullptr},
                      // torchvision resnet34 / resnet101 reference counts.
                      ZooCase{"resnet34", 21797672, nullptr}, ZooCase{"resnet101", 44549160, nullptr}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ModelZoo, ForwardShapes) {
  struct Case {
    const char* name;
    Shape input;
    int classes;
  };
  for (const Case& c : {Case{"mnist_lenet_300_100", {2, 1, 28, 28}, 10}, Case{"mnist_lenet5", {2, 1, 28, 28}, 10},
                        Case{"cifar_resnet_8_4", {2, 3, 32, 32}, 7}, Case{"resnet18", {1, 3, 64, 64}, 5}}) {
    auto model = models::make_model(c.name, Device::cpu(), c.classes);
    model->set_training(false);
    const Tensor y = model->forward(Tensor::zeros(c.input));
    EXPECT_EQ(y.shape(), Shape({c.input[0], c.classes})) << c.name;
  }
}

TEST(ModelZoo, WidthAndClassesChangeTheArchitecture) {
  auto wide = models::make_model("cifar_resnet_20_32", Device::cpu(), 100);
  EXPECT_EQ(wide->parameter("conv.weight").shape, Shape({32, 3, 3, 3}));
  EXPECT_EQ(wide->parameter("fc.weight").shape, Shape({100, 128}));
  EXPECT_EQ(models::make_model("resnet50", Device::cpu())->parameter("fc.weight").shape, Shape({1000, 2048}));
  auto lenet = models::make_model("mnist_lenet_20_30_40", Device::cpu());
  EXPECT_EQ(lenet->parameter("fc_layers.2.weight").shape, Shape({40, 30}));
  EXPECT_EQ(lenet->parameter("fc.weight").shape, Shape({10, 40}));
}

TEST(ModelZoo, UnknownNamesListTheValidOnes) {
  for (const char* bad : {"cifar_resnet_21", "cifar_resnet_2", "cifar_resnet_20_16_1", "mnist_lenet_", "mnist_lenet_0",
                          "mnist_lenet_300_x", "resnet19", "vgg16", ""}) {
    try {
      models::make_model(bad, Device::cpu());
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("valid names: mnist_lenet_"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(models::make_model("mnist_lenet_300_100", Device::cpu(), -1), Error);
}

TEST(ModelZoo, OpenLthDefaultHparams) {
  const train::ModelDefaults lenet = train::model_defaults("mnist_lenet_300_100");
  EXPECT_EQ(lenet.train.dataset, "mnist");
  EXPECT_EQ(lenet.train.batch_size, 128);
  EXPECT_FLOAT_EQ(lenet.train.lr, 0.1f);
  EXPECT_FLOAT_EQ(lenet.train.momentum, 0.0f);
  EXPECT_EQ(lenet.train.training_length.str(), "40ep");
  EXPECT_TRUE(lenet.train.milestones.empty());
  EXPECT_FALSE(lenet.train.augment);
  EXPECT_EQ(lenet.pruning_layers_to_ignore, std::vector<std::string>{"fc.weight"});
  const train::ModelDefaults resnet = train::model_defaults("cifar_resnet_56");
  EXPECT_EQ(resnet.train.dataset, "cifar10");
  EXPECT_FLOAT_EQ(resnet.train.momentum, 0.9f);
  EXPECT_FLOAT_EQ(resnet.train.weight_decay, 1e-4f);
  ASSERT_EQ(resnet.train.milestones.size(), 2u);
  EXPECT_EQ(resnet.train.milestones[0].str(), "80ep");
  EXPECT_EQ(resnet.train.milestones[1].str(), "120ep");
  EXPECT_EQ(resnet.train.training_length.str(), "160ep");
  EXPECT_TRUE(resnet.train.augment);
  const train::ModelDefaults imagenet = train::model_defaults("resnet50");
  EXPECT_EQ(imagenet.train.batch_size, 1024);
  EXPECT_FLOAT_EQ(imagenet.train.lr, 0.4f);
  EXPECT_EQ(imagenet.train.warmup.str(), "5ep");
  EXPECT_EQ(train::model_defaults("mnist_lenet5").train.dataset, "mnist");
  EXPECT_THROW(train::model_defaults("alexnet"), Error);
}

}  // namespace
}  // namespace bmc
