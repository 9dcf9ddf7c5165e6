// Which files a dataset name means, and the train/test (or train/held-out) split used by the
// training and evaluation commands.
#pragma once

#include <string>

#include "datasets/dataset.h"
#include "datasets/image_folder.h"

namespace bmc::train {

struct DataSplits {
  data::Dataset train;
  data::Dataset test;
  std::string test_split;  // "test", "val" or "holdout" (a validation split carved from training data)
  // Image folders too large to decode up front (ImageNet) are streamed: their listings instead.
  bool streamed = false;
  data::ImageList train_list, test_list;
  std::string layout;  // how the folder was read (streamed datasets)

  int num_classes() const;
  int64_t train_size() const;
  int64_t test_size() const;
};

// Refuses --holdout-per-class for datasets with a split of their own (before any data is read).
void check_holdout_flag(const std::string& dataset, int64_t holdout_per_class);

// dataset: mnist, fashion-mnist, cifar10, cifar100, imagenet (any class-folder dataset in one of
// datasets/imagenet.h's layouts, streamed). For a CIFAR folder of class-folder JPEGs
// (no official test set) the last `holdout_per_class` images of each class (500 when 0) form the
// held-out split; with binary CIFAR a positive holdout_per_class carves it from the training set.
// skip_bad_images: undecodable images of image folders are skipped with a warning (and counted)
// instead of failing the run.
DataSplits load_splits(const std::string& dataset, const std::string& dir, int64_t holdout_per_class,
                       bool skip_bad_images = false);

// Rows of `source` at `indices`, in that order.
data::Dataset select_rows(const data::Dataset& source, const std::vector<int64_t>& indices);

}  // namespace bmc::train
