// load_state_dict: strict checks with one error naming each key and the expected/found shapes,
// nothing changed on failure; num_batches_tracked travels through save and load.
#include <gtest/gtest.h>

#include "io/state_dict.h"
#include "models/init.h"
#include "models/registry.h"
#include "nn/batch_norm.h"

namespace bmc {
namespace {

io::SafeTensors as_file(nn::Model& model) {
  io::SafeTensors file;
  for (const auto& [key, t] : io::state_dict(model)) file.tensors.emplace(key, t->to(Device::cpu()));
  return file;
}

std::string load_error(nn::Model& model, const io::SafeTensors& file) {
  try {
    io::load_state_dict(model, file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(StateDict, KeysFollowPyTorchModuleOrder) {
  auto model = models::make_model("cifar_resnet_8", Device::cpu());
  std::vector<std::string> keys;
  for (const auto& [key, t] : io::state_dict(*model)) keys.push_back(key);
  const std::vector<std::string> head{"conv.weight",          "bn.weight",        "bn.bias",
                                      "bn.running_mean",      "bn.running_var",   "bn.num_batches_tracked",
                                      "blocks.0.conv1.weight", "blocks.0.bn1.weight"};
  ASSERT_GE(keys.size(), head.size());
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + head.size()), head);
  EXPECT_EQ(keys.back(), "fc.bias");
}

TEST(StateDict, LoadRestoresValuesAndBatchCounter) {
  auto source = models::make_model("cifar_resnet_8", Device::cpu());
  models::initialize(*source, 5);
  source->set_training(true);
  source->forward(Tensor::zeros({2, 3, 8, 8}));
  source->forward(Tensor::zeros({2, 3, 8, 8}));
  const io::SafeTensors file = as_file(*source);
  EXPECT_EQ(file.at("bn.num_batches_tracked").to_vector<int64_t>(), std::vector<int64_t>{2});

  auto target = models::make_model("cifar_resnet_8", Device::cpu());
  io::load_state_dict(*target, file);
  EXPECT_EQ(target->values().to_vector<float>(), source->values().to_vector<float>());
  target->set_training(true);
  target->forward(Tensor::zeros({2, 3, 8, 8}));
  EXPECT_EQ(as_file(*target).at("blocks.2.bn2.num_batches_tracked").to_vector<int64_t>(), std::vector<int64_t>{3});
}

TEST(StateDict, MissingUnexpectedAndMismatchedKeysAreNamed) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  io::SafeTensors file = as_file(*model);
  file.tensors.erase("fc.bias");
  file.tensors.emplace("fc.extra", Tensor::zeros({3}));
  file.tensors.at("fc_layers.1.weight") = Tensor::zeros({100, 301});
  const std::string error = load_error(*model, file);
  EXPECT_TRUE(contains(error, "missing key 'fc.bias'")) << error;
  EXPECT_TRUE(contains(error, "unexpected key 'fc.extra'")) << error;
  EXPECT_TRUE(contains(error, "key 'fc_layers.1.weight': expected f32 (100, 300), found f32 (100, 301)")) << error;
}

TEST(StateDict, DtypeMismatchIsNamed) {
  auto model = models::make_model("cifar_resnet_8", Device::cpu());
  io::SafeTensors file = as_file(*model);
  file.tensors.at("bn.num_batches_tracked") = Tensor::zeros({}, DType::I32);
  const std::string error = load_error(*model, file);
  EXPECT_TRUE(contains(error, "key 'bn.num_batches_tracked': expected i64 (), found i32 ()")) << error;
}

TEST(StateDict, CheckpointOfAnotherArchitectureFailsWithoutChangingTheModel) {
  auto resnet20 = models::make_model("cifar_resnet_20", Device::cpu());
  auto resnet8 = models::make_model("cifar_resnet_8", Device::cpu());
  models::initialize(*resnet8, 1);
  const std::vector<float> before = resnet8->values().to_vector<float>();
  const std::string error = load_error(*resnet8, as_file(*resnet20));
  // 9 blocks against 3: blocks.1 and blocks.2 differ in shape and shortcut, blocks.3 ... 8 are extra.
  EXPECT_TRUE(contains(error, "checkpoint does not fit cifar_resnet_8: 12 missing, 84 unexpected, 20 mismatched"))
      << error;
  EXPECT_TRUE(contains(error, "unexpected key 'blocks.3.bn1.bias' (f32 (32))")) << error;
  EXPECT_EQ(resnet8->values().to_vector<float>(), before);

  auto wide = models::make_model("cifar_resnet_8_32", Device::cpu());
  const std::string shape_error = load_error(*wide, as_file(*resnet8));
  EXPECT_TRUE(contains(shape_error, "key 'conv.weight': expected f32 (32, 3, 3, 3), found f32 (16, 3, 3, 3)"))
      << shape_error;
}

}  // namespace
}  // namespace bmc
