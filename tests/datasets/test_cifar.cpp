// CIFAR-10/100 binary files written by the test round-trip exactly; malformed files are refused
// with the file named.
#include <gtest/gtest.h>

#include <functional>

#include "datasets/cifar.h"
#include "tests/datasets/data_files.h"

namespace bmc {
namespace {

using data::Split;

// Records with label bytes `labels[i]` (1 or 2 per record) and pixel pattern seeded by i.
std::vector<uint8_t> cifar_file(const std::vector<std::vector<uint8_t>>& labels, int seed,
                                std::vector<uint8_t>* pixels_out) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < labels.size(); ++i) {
    out.insert(out.end(), labels[i].begin(), labels[i].end());
    const auto px = test::pattern_pixels(32, 32, 3, seed + static_cast<int>(i));
    out.insert(out.end(), px.begin(), px.end());
    pixels_out->insert(pixels_out->end(), px.begin(), px.end());
  }
  return out;
}

TEST(CifarBinary, Cifar10TrainAndTestRoundTripExactly) {
  test::TempDir dir;
  std::vector<uint8_t> train_pixels, test_pixels;
  std::vector<int32_t> train_labels;
  for (int b = 1; b <= 5; ++b) {
    std::vector<std::vector<uint8_t>> labels = {{uint8_t(b)}, {uint8_t(9 - b)}};
    for (auto& l : labels) train_labels.push_back(l[0]);
    test::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_file(labels, 10 * b, &train_pixels));
  }
  test::write_bytes(dir / "test_batch.bin", test::gzip_bytes(cifar_file({{0}, {9}, {5}}, 99, &test_pixels)));
  std::string names;
  for (const char* n : {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"})
    names += std::string(n) + "\n";
  test::write_bytes(dir / "batches.meta.txt", std::vector<uint8_t>(names.begin(), names.end()));

  const data::Dataset train = data::load_cifar10(dir.path(), Split::Train);
  EXPECT_EQ(train.name, "cifar10");
  EXPECT_EQ(train.images.shape(), Shape({10, 3, 32, 32}));
  EXPECT_EQ(train.images.to_vector<uint8_t>(), train_pixels);
  EXPECT_EQ(train.labels.to_vector<int32_t>(), train_labels);
  EXPECT_EQ(train.class_names.at(3), "cat");
  const data::Dataset test_set = data::load_cifar10(dir.path(), Split::Test);  // gzipped file
  EXPECT_EQ(test_set.images.to_vector<uint8_t>(), test_pixels);
  EXPECT_EQ(test_set.labels.to_vector<int32_t>(), (std::vector<int32_t>{0, 9, 5}));

  const data::Dataset tail = train.subset(7, 10);
  EXPECT_EQ(tail.labels.to_vector<int32_t>(), std::vector<int32_t>(train_labels.begin() + 7, train_labels.end()));
  EXPECT_EQ(tail.images.to_vector<uint8_t>(),
            std::vector<uint8_t>(train_pixels.begin() + 7 * 3072, train_pixels.end()));
  EXPECT_THROW(train.subset(5, 11), Error);
}

TEST(CifarBinary, Cifar100FineAndCoarseLabels) {
  test::TempDir dir;
  std::vector<uint8_t> pixels, unused;
  test::write_bytes(dir / "train.bin", cifar_file({{19, 99}, {0, 42}, {7, 0}}, 3, &pixels));
  test::write_bytes(dir / "test.bin", cifar_file({{1, 2}}, 4, &unused));
  const data::Dataset fine = data::load_cifar100(dir.path(), Split::Train);
  EXPECT_EQ(fine.num_classes, 100);
  EXPECT_EQ(fine.labels.to_vector<int32_t>(), (std::vector<int32_t>{99, 42, 0}));
  EXPECT_EQ(fine.images.to_vector<uint8_t>(), pixels);
  const data::Dataset coarse = data::load_cifar100(dir.path(), Split::Train, /*coarse=*/true);
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(coarse.labels.to_vector<int32_t>(), (std::vector<int32_t>{19, 0, 7}));
  EXPECT_EQ(data::load_cifar100(dir.path(), Split::Test).size(), 1);
}

void expect_error_containing(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    for (const auto& f : fragments) EXPECT_NE(e.message().find(f), std::string::npos) << e.message();
  }
}

TEST(CifarBinary, TruncatedWrongLabelsAndMissingFilesAreRefused) {
  test::TempDir dir;
  std::vector<uint8_t> px;
  auto bytes = cifar_file({{1}, {2}}, 0, &px);
  bytes.pop_back();
  test::write_bytes(dir / "test_batch.bin", bytes);
  const std::string path = dir / "test_batch.bin";
  expect_error_containing([&] { data::load_cifar10(dir.path(), Split::Test); },
                          {path, "not a whole number of 3073-byte"});
  test::write_bytes(path, cifar_file({{1}, {200}}, 0, &px));
  expect_error_containing([&] { data::load_cifar10(dir.path(), Split::Test); }, {path, "record 1 has label 200"});
  test::write_bytes(path, {});
  expect_error_containing([&] { data::load_cifar10(dir.path(), Split::Test); }, {path, "empty"});
  expect_error_containing([&] { data::load_cifar10(dir.path(), Split::Train); }, {"data_batch_1.bin", "missing"});
  // A CIFAR-10 file read as CIFAR-100 (3073-byte records) does not divide into 3074-byte records.
  test::write_bytes(dir / "train.bin", cifar_file({{1}, {2}}, 0, &px));
  expect_error_containing([&] { data::load_cifar100(dir.path(), Split::Train); }, {"3074-byte"});
  test::write_bytes(dir / "batches.meta.txt", {'a', '\n', 'b', '\n'});
  test::write_bytes(path, cifar_file({{1}}, 0, &px));
  expect_error_containing([&] { data::load_cifar10(dir.path(), Split::Test); }, {"batches.meta.txt", "2 class names"});
}

}  // namespace
}  // namespace bmc
