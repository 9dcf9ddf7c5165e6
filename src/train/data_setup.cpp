#include "train/data_setup.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "datasets/cifar.h"
#include "datasets/image_folder.h"
#include "datasets/imagenet.h"
#include "datasets/mnist.h"

namespace bmc::train {

data::Dataset select_rows(const data::Dataset& source, const std::vector<int64_t>& indices) {
  data::Dataset out;
  out.name = source.name;
  out.num_classes = source.num_classes;
  out.class_names = source.class_names;
  Shape shape = source.images.shape();
  const int64_t row_bytes = shape[1] * shape[2] * shape[3];
  shape[0] = static_cast<int64_t>(indices.size());
  out.images = Tensor(shape, DType::U8);
  out.labels = Tensor({shape[0]}, DType::I32);
  const auto* src = source.images.data<uint8_t>();
  auto* dst = out.images.data<uint8_t>();
  for (size_t i = 0; i < indices.size(); ++i) {
    std::memcpy(dst + i * row_bytes, src + indices[i] * row_bytes, row_bytes);
    out.labels.data<int32_t>()[i] = source.labels.data<int32_t>()[indices[i]];
  }
  return out;
}

namespace {

namespace fs = std::filesystem;

// CIFAR-10 as class folders of JPEGs has no test split: hold out this many images per class.
constexpr int64_t kDefaultHoldout = 500;

// A folder of class folders (<dir>/train/<class>/*.jpg), or a folder holding train.tar.gz of
// that layout, which is extracted once next to bmc's other data (data/<name>-jpeg). Decoded
// images are cached so later runs load in milliseconds.
data::Dataset load_jpeg_folder(const std::string& dir, const std::string& dataset, bool skip_bad_images) {
  fs::path root(dir);
  if (!fs::is_directory(root / "train") && fs::exists(root / "train.tar.gz")) {
    const fs::path extracted = fs::path("data") / (dataset + "-jpeg");
    if (!fs::is_directory(extracted / "train")) {
      fs::create_directories(extracted);
      std::fprintf(stderr, "bmc: extracting %s into %s (once)\n", (root / "train.tar.gz").c_str(), extracted.c_str());
      const std::string command = "tar -xzf '" + (root / "train.tar.gz").string() + "' -C '" + extracted.string() + "'";
      BMC_CHECK(std::system(command.c_str()) == 0, "could not extract ", (root / "train.tar.gz").string(), " into ",
                extracted.string());
    }
    root = extracted;
  }
  BMC_CHECK(fs::is_directory(root / "train"), dir, " holds neither CIFAR binary batches nor train/<class>/ image folders");
  data::ImageFolderOptions options;
  options.split = "train";
  options.name = dataset;
  options.cache_file = (root / "train.u8cache").string();
  options.skip_bad_images = skip_bad_images;
  return data::load_image_folder(root.string(), options);
}

DataSplits holdout_split(data::Dataset all, int64_t holdout_per_class) {
  BMC_CHECK(holdout_per_class > 0, "a held-out split needs --holdout-per-class > 0");
  std::vector<std::vector<int64_t>> by_class(all.num_classes);
  for (int64_t i = 0; i < all.labels.numel(); ++i) by_class[all.labels.data<int32_t>()[i]].push_back(i);
  std::vector<int64_t> train_rows, test_rows;
  for (int c = 0; c < all.num_classes; ++c) {
    const auto& rows = by_class[c];
    BMC_CHECK(static_cast<int64_t>(rows.size()) > holdout_per_class, "class ", all.class_names.at(c), " has ",
              rows.size(), " images; cannot hold out ", holdout_per_class);
    const size_t cut = rows.size() - static_cast<size_t>(holdout_per_class);
    train_rows.insert(train_rows.end(), rows.begin(), rows.begin() + cut);
    test_rows.insert(test_rows.end(), rows.begin() + cut, rows.end());
  }
  DataSplits splits;
  splits.train = select_rows(all, train_rows);
  splits.test = select_rows(all, test_rows);
  splits.test_split = "holdout";
  return splits;
}

}  // namespace

int DataSplits::num_classes() const {
  return streamed ? static_cast<int>(train_list.class_names.size()) : train.num_classes;
}
int64_t DataSplits::train_size() const {
  return streamed ? static_cast<int64_t>(train_list.entries.size()) : train.labels.numel();
}
int64_t DataSplits::test_size() const {
  return streamed ? static_cast<int64_t>(test_list.entries.size()) : test.labels.numel();
}

void check_holdout_flag(const std::string& dataset, int64_t holdout_per_class) {
  if (holdout_per_class == 0) return;
  BMC_CHECK(dataset != "imagenet", "--holdout-per-class is for in-memory datasets; ImageNet evaluates on val/");
  BMC_CHECK(dataset != "mnist" && dataset != "fashion-mnist", "--holdout-per-class is for CIFAR; ", dataset,
            " evaluates on its test split");
}

namespace {

DataSplits read_splits(const std::string& dataset, const std::string& dir, int64_t holdout_per_class,
                       bool skip_bad_images) {
  check_holdout_flag(dataset, holdout_per_class);
  DataSplits splits;
  if (dataset == "imagenet") {
    data::ImagenetLists lists = data::list_imagenet(dir);
    splits.streamed = true;
    splits.train_list = std::move(lists.train);
    splits.test_list = std::move(lists.val);
    splits.layout = lists.layout;
    splits.test_split = "val";
    return splits;
  }
  if (dataset == "mnist" || dataset == "fashion-mnist") {
    splits.train = data::load_mnist(dir, data::Split::Train);
    splits.test = data::load_mnist(dir, data::Split::Test);
    // The models for these datasets take 28x28 inputs: refuse other sizes before any run starts.
    for (const data::Dataset* d : {&splits.train, &splits.test})
      BMC_CHECK(d->images.dim(2) == 28 && d->images.dim(3) == 28, dir, ": ", dataset, " images are ", d->images.dim(2),
                "x", d->images.dim(3), ", expected 28x28");
    splits.train.name = splits.test.name = dataset;
    splits.test_split = "test";
    return splits;
  }
  if (dataset == "cifar10" || dataset == "cifar100") {
    const bool binary = fs::exists(fs::path(dir) / (dataset == "cifar10" ? "data_batch_1.bin" : "train.bin"));
    if (binary) {
      splits.train = dataset == "cifar10" ? data::load_cifar10(dir, data::Split::Train)
                                          : data::load_cifar100(dir, data::Split::Train);
      splits.test = dataset == "cifar10" ? data::load_cifar10(dir, data::Split::Test)
                                         : data::load_cifar100(dir, data::Split::Test);
      splits.test_split = "test";
      if (holdout_per_class > 0) return holdout_split(std::move(splits.train), holdout_per_class);
      return splits;
    }
    return holdout_split(load_jpeg_folder(dir, dataset, skip_bad_images), holdout_per_class > 0 ? holdout_per_class : kDefaultHoldout);
  }
  BMC_FAIL("unknown dataset '", dataset, "': expected mnist, fashion-mnist, cifar10, cifar100 or imagenet");
}

}  // namespace

DataSplits load_splits(const std::string& dataset, const std::string& dir, int64_t holdout_per_class,
                       bool skip_bad_images) {
  DataSplits splits = read_splits(dataset, dir, holdout_per_class, skip_bad_images);
  // Degenerate data would train and report a meaningless accuracy (0% of nothing, 100% of one class).
  BMC_CHECK(splits.train_size() > 0, dir, ": the training split holds no images");
  BMC_CHECK(splits.test_size() > 0, dir, ": the ", splits.test_split, " split holds no images; nothing to evaluate on");
  BMC_CHECK(splits.num_classes() >= 2, dir, ": ", splits.num_classes(),
            " class; a classifier needs at least 2 (one class folder per label)");
  return splits;
}

}  // namespace bmc::train
