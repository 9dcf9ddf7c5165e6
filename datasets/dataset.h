// Datasets decoded into host memory: u8 images (N, C, H, W) and i32 labels (N), plus the class
// names. Loaders for each on-disk format live in their own files (mnist.h, cifar.h,
// image_folder.h); the DataLoader (data_loader.h) turns a Dataset into normalised batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bmc::data {

enum class Split { Train, Test };

const char* split_name(Split split);  // "train" / "test"

struct Dataset {
  std::string name;  // "mnist", "cifar10", ...
  Tensor images;     // u8 (N, C, H, W) on CPU
  Tensor labels;     // i32 (N) on CPU
  int num_classes = 0;
  std::vector<std::string> class_names;

  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
  int64_t channels() const { return images.dim(1); }
  int64_t height() const { return images.dim(2); }
  int64_t width() const { return images.dim(3); }

  // Copy of samples [begin, end) (for held-out splits); same name and classes.
  Dataset subset(int64_t begin, int64_t end) const;
};

// Throws bmc::Error naming `what` unless images/labels have consistent shapes, dtypes and labels
// lie in [0, num_classes).
void validate_dataset(const Dataset& d, const std::string& what);

}  // namespace bmc::data
