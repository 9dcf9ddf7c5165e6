// Per-channel mean/std on the [0, 1] pixel scale (the torchvision Normalize convention).
#pragma once

#include <string>
#include <vector>

namespace bmc::data {

struct Normalization {
  std::vector<float> mean, std;
};

// The usual statistics: "mnist", "fashion-mnist", "cifar10", "cifar100", "imagenet" (also used
// for image folders). Throws bmc::Error listing the known names otherwise.
Normalization standard_normalization(const std::string& dataset_name);

}  // namespace bmc::data
