// A small synthetic classification problem and model for training-loop tests: 4 classes of 8x8
// images (the class brightens one quadrant, plus Philox noise) and a 64-16-4 MLP.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "datasets/data_loader.h"
#include "nn/model.h"
#include "train/hparams.h"

namespace bmc::test {

data::Dataset synthetic_dataset(int64_t n, uint64_t seed);
std::unique_ptr<nn::Model> synthetic_model(uint64_t seed);
data::LoaderOptions synthetic_loader_options(bool training);

// The synthetic problem as a test fixture: 200 training and 64 test images with their loaders,
// hyper-parameters of a short momentum-SGD run (2 epochs), and a scratch folder for run
// directories (`root()`), removed after the test.
class SyntheticTraining : public ::testing::Test {
 protected:
  explicit SyntheticTraining(const std::string& scratch_name);
  ~SyntheticTraining() override;

  const std::filesystem::path& root() const { return root_; }

  data::Dataset train_data_, test_data_;
  data::DataLoader train_, test_;
  train::TrainHparams hp_;

 private:
  std::filesystem::path root_;
};

}  // namespace bmc::test
