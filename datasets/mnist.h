// MNIST and Fashion-MNIST (same IDX layout): train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or gzip-compressed (.gz).
#pragma once

#include <string>

#include "datasets/dataset.h"
#include "datasets/idx.h"

namespace bmc::data {

// Loads one split from `dir`. The dataset is named "fashion-mnist" when the directory name
// contains "fashion", else "mnist". Throws bmc::Error naming the file on any inconsistency.
Dataset load_mnist(const std::string& dir, Split split);

// Builds the Dataset from parsed image (N, H, W) and label (N) arrays; checks counts and labels.
Dataset mnist_from_idx(const IdxArray& images, const IdxArray& labels, const std::string& images_what,
                       const std::string& labels_what);

// The path of `base` or `base.gz` in dir, whichever exists (error listing both when neither does).
std::string find_idx_file(const std::string& dir, const std::string& base);

}  // namespace bmc::data
