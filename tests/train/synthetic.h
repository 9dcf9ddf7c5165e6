// A small synthetic classification problem and model for training-loop tests: 4 classes of 8x8
// images (the class brightens one quadrant, plus Philox noise) and a 64-16-4 MLP.
#pragma once

#include <memory>

#include "datasets/data_loader.h"
#include "nn/model.h"

namespace bmc::test {

data::Dataset synthetic_dataset(int64_t n, uint64_t seed);
std::unique_ptr<nn::Model> synthetic_model(uint64_t seed);
data::LoaderOptions synthetic_loader_options(bool training);

}  // namespace bmc::test
