#include "tests/train/synthetic.h"

#include <unistd.h>

#include "kernels/philox.cuh"
#include "nn/layers.h"

namespace bmc::test {

data::Dataset synthetic_dataset(int64_t n, uint64_t seed) {
  data::Dataset d;
  d.name = "synthetic";
  d.num_classes = 4;
  d.class_names = {"a", "b", "c", "d"};
  d.images = Tensor({n, 1, 8, 8}, DType::U8);
  d.labels = Tensor({n}, DType::I32);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t label = static_cast<int32_t>(i % 4);
    d.labels.data<int32_t>()[i] = label;
    for (int p = 0; p < 64; ++p) {
      const bool lit = ((p / 8) / 4) * 2 + (p % 8) / 4 == label;
      d.images.data<uint8_t>()[i * 64 + p] =
          static_cast<uint8_t>((lit ? 160 : 40) + u32_to_range(philox_u32(seed, i * 64 + p, 0, 0), 60));
    }
  }
  return d;
}

std::unique_ptr<nn::Model> synthetic_model(uint64_t seed) {
  auto net = std::make_unique<nn::Sequential>();
  net->append(std::make_unique<nn::Flatten>());
  net->append(std::make_unique<nn::Linear>(64, 16));
  net->append(std::make_unique<nn::ReLU>());
  net->append(std::make_unique<nn::Linear>(16, 4));
  auto model = std::make_unique<nn::Model>("test_mlp", std::move(net), Device::cpu());
  Tensor init({model->num_parameters()});
  for (int64_t i = 0; i < init.numel(); ++i)
    init.data<float>()[i] = (u32_to_unit_float(philox_u32(seed, i, 1, 0)) - 0.5f) * 0.5f;
  model->values().copy_from(init);
  return model;
}

data::LoaderOptions synthetic_loader_options(bool training) {
  data::LoaderOptions o;
  o.batch_size = 32;
  o.shuffle = training;
  o.seed = 5;
  o.norm = {{0.5f}, {0.25f}};
  return o;
}

SyntheticTraining::SyntheticTraining(const std::string& scratch_name)
    : train_data_(synthetic_dataset(200, 1)),
      test_data_(synthetic_dataset(64, 2)),
      train_(train_data_, Device::cpu(), synthetic_loader_options(true)),
      test_(test_data_, Device::cpu(), synthetic_loader_options(false)),
      root_(std::filesystem::temp_directory_path() / (scratch_name + "_" + std::to_string(::getpid()))) {
  std::filesystem::remove_all(root_);
  hp_.model = "test_mlp";
  hp_.batch_size = 32;
  hp_.lr = 0.05f;
  hp_.momentum = 0.9f;
  hp_.training_length = {2, true};
}

SyntheticTraining::~SyntheticTraining() { std::filesystem::remove_all(root_); }

}  // namespace bmc::test
