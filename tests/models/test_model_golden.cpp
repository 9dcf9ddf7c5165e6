// PyTorch state_dicts (tests/golden/gen_models.py) load into bmc models and give PyTorch's logits,
// in evaluation mode (non-trivial running statistics) and, for the ResNet, in training mode with
// the running statistics it updates.
#include <gtest/gtest.h>

#include <cstring>

#include "io/state_dict.h"
#include "models/registry.h"
#include "tests/support/fixtures.h"

namespace bmc {
namespace {

TEST(ModelGolden, LenetLogitsMatchPyTorch) {
  auto model = models::make_model("mnist_lenet_300_100", Device::cpu());
  io::load_state_dict(*model, test::load_fixture("model_mnist_lenet_300_100"));
  const io::SafeTensors io = test::load_fixture("model_mnist_lenet_300_100_io");
  model->set_training(false);
  EXPECT_GOLDEN(model->forward(io.at("x")), io, "logits");
}

TEST(ModelGolden, CifarResnet20LogitsMatchPyTorch) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  io::load_state_dict(*model, test::load_fixture("model_cifar_resnet_20"));
  const io::SafeTensors io = test::load_fixture("model_cifar_resnet_20_io");
  model->set_training(false);
  EXPECT_GOLDEN(model->forward(io.at("x")), io, "logits");

  model->set_training(true);
  EXPECT_GOLDEN(model->forward(io.at("x")), io, "train_logits");
  for (const auto& [key, tensor] : io::state_dict(*model)) {
    if (!io.contains("train." + key)) continue;
    if (tensor->dtype() == DType::I64) {
      EXPECT_EQ(tensor->to_vector<int64_t>(), io.at("train." + key).to_vector<int64_t>()) << key;
    } else {
      EXPECT_GOLDEN(*tensor, io, "train." + key);
    }
  }
}

TEST(ModelGolden, SavedStateDictRoundTripsBitwise) {
  auto model = models::make_model("cifar_resnet_20", Device::cpu());
  const io::SafeTensors original = test::load_fixture("model_cifar_resnet_20");
  io::load_state_dict(*model, original);
  const std::string path = ::testing::TempDir() + "/bmc_state_dict_roundtrip.safetensors";
  io::save_safetensors(path, io::state_dict(*model));
  const io::SafeTensors saved = io::load_safetensors(path);
  ASSERT_EQ(saved.tensors.size(), original.tensors.size());
  for (const auto& [key, t] : original.tensors) {
    ASSERT_TRUE(saved.contains(key)) << key;
    EXPECT_EQ(saved.at(key).dtype(), t.dtype()) << key;
    EXPECT_EQ(saved.at(key).nbytes(), t.nbytes()) << key;
    EXPECT_EQ(std::memcmp(saved.at(key).raw(), t.raw(), t.nbytes()), 0) << key;
  }
}

}  // namespace
}  // namespace bmc
