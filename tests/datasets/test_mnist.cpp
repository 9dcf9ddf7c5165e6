// MNIST/IDX: the real files from ../shared/datasets/mnist (skipped when absent), synthetic raw and
// gzipped IDX files, and every malformed-input error.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>

#include "datasets/mnist.h"
#include "datasets/normalization.h"
#include "tests/datasets/data_files.h"

namespace bmc {
namespace {

using data::Split;

TEST(Mnist, RealFilesHaveCountsLabelsAndPixelStatistics) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/datasets/mnist not present";
  const data::Dataset train = data::load_mnist(dir, Split::Train);
  const data::Dataset test = data::load_mnist(dir, Split::Test);
  EXPECT_EQ(train.name, "mnist");
  EXPECT_EQ(train.images.shape(), Shape({60000, 1, 28, 28}));
  EXPECT_EQ(test.images.shape(), Shape({10000, 1, 28, 28}));
  EXPECT_EQ(train.num_classes, 10);
  const std::vector<int32_t> first = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
  const std::vector<int32_t> labels = test.labels.to_vector<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(labels.begin(), labels.begin() + 10), first);
  EXPECT_EQ(train.labels.to_vector<int32_t>()[0], 5);  // the famous first training digit
  // Pixel mean/std over the training set match the standard normalisation constants.
  double sum = 0, sq = 0;
  const uint8_t* px = train.images.data<uint8_t>();
  for (int64_t i = 0; i < train.images.numel(); ++i) {
    const double v = px[i] / 255.0;
    sum += v;
    sq += v * v;
  }
  const double n = static_cast<double>(train.images.numel());
  const double mean = sum / n, stddev = std::sqrt(sq / n - mean * mean);
  const data::Normalization norm = data::standard_normalization("mnist");
  EXPECT_NEAR(mean, norm.mean[0], 5e-4);
  EXPECT_NEAR(stddev, norm.std[0], 5e-4);
  std::vector<int> per_class(10, 0);
  for (int32_t y : train.labels.to_vector<int32_t>()) ++per_class[y];
  EXPECT_EQ(per_class[1], 6742);  // the largest class of the MNIST training set
}

class MnistFiles : public ::testing::Test {
 protected:
  // Writes 3 images of 2x4 and their labels as t10k files, gzipped or raw.
  void write(bool gz, const std::vector<uint8_t>& label_values = {3, 1, 4}) {
    images_ = test::pattern_pixels(4, 2, 3, 7);
    auto img = test::idx_bytes({3, 2, 4}, images_);
    auto lab = test::idx_bytes({static_cast<uint32_t>(label_values.size())}, label_values);
    test::write_bytes(dir_ / (gz ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte"), gz ? test::gzip_bytes(img) : img);
    test::write_bytes(dir_ / (gz ? "t10k-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte"), gz ? test::gzip_bytes(lab) : lab);
  }
  std::string images_path() const { return dir_ / "t10k-images-idx3-ubyte"; }
  test::TempDir dir_;
  std::vector<uint8_t> images_;
};

TEST_F(MnistFiles, RawAndGzipRoundTripExactly) {
  for (bool gz : {false, true}) {
    std::remove(images_path().c_str());  // leave only this round's files
    std::remove((dir_ / "t10k-labels-idx1-ubyte").c_str());
    write(gz);
    const data::Dataset d = data::load_mnist(dir_.path(), Split::Test);
    EXPECT_EQ(d.images.shape(), Shape({3, 1, 2, 4}));
    EXPECT_EQ(d.images.to_vector<uint8_t>(), images_) << "gz " << gz;
    EXPECT_EQ(d.labels.to_vector<int32_t>(), (std::vector<int32_t>{3, 1, 4}));
  }
}

// Expects load_mnist to throw a bmc::Error whose message contains every fragment.
void expect_mnist_error(const std::string& dir, const std::vector<std::string>& fragments) {
  try {
    data::load_mnist(dir, Split::Test);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    for (const auto& f : fragments) EXPECT_NE(e.message().find(f), std::string::npos) << e.message();
  }
}

TEST_F(MnistFiles, WrongMagicNamesTheFile) {
  write(false);
  auto bytes = test::idx_bytes({3, 2, 4}, images_);
  bytes[0] = 0x1f;  // neither IDX nor complete gzip
  bytes[1] = 0x00;
  test::write_bytes(images_path(), bytes);
  expect_mnist_error(dir_.path(), {images_path(), "not an IDX file"});
}

TEST_F(MnistFiles, WrongElementTypeAndDimensionsAreRefused) {
  write(false);
  auto bytes = test::idx_bytes({3, 2, 4}, images_);
  bytes[2] = 0x0D;  // float
  test::write_bytes(images_path(), bytes);
  expect_mnist_error(dir_.path(), {images_path(), "element type"});
  test::write_bytes(images_path(), test::idx_bytes({24}, images_));
  expect_mnist_error(dir_.path(), {images_path(), "1 dimensions, expected 3"});
}

TEST(Idx, AZeroDimensionIsRefusedBeforeAnyAllocation) {
  // The fuzzer's case: dims (4143908096, 0, 13160) make a zero-byte payload.
  const std::vector<uint8_t> bytes = {0, 0, 8, 3, 0xF7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x33, 0x68};
  try {
    data::parse_idx_u8(bytes, 3, "zero.idx");
    ADD_FAILURE() << "a zero dimension must be refused";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("dimension 1 is zero"), std::string::npos) << e.message();
  }
}

TEST_F(MnistFiles, TruncatedPayloadHeaderAndGzipAreRefused) {
  write(false);
  auto bytes = test::idx_bytes({3, 2, 4}, images_);
  bytes.pop_back();
  test::write_bytes(images_path(), bytes);
  expect_mnist_error(dir_.path(), {images_path(), "truncated file"});
  test::write_bytes(images_path(), {0, 0, 8, 3, 0, 0});
  expect_mnist_error(dir_.path(), {images_path(), "truncated IDX header"});
  auto gz = test::gzip_bytes(test::idx_bytes({3, 2, 4}, images_));
  gz.resize(gz.size() / 2);
  std::remove(images_path().c_str());
  test::write_bytes(images_path() + ".gz", gz);
  expect_mnist_error(dir_.path(), {images_path() + ".gz", "gzip"});
}

TEST_F(MnistFiles, TrailingBytesAndCountMismatchAreRefused) {
  write(false);
  auto bytes = test::idx_bytes({3, 2, 4}, images_);
  bytes.push_back(0);
  test::write_bytes(images_path(), bytes);
  expect_mnist_error(dir_.path(), {"trailing bytes"});
  write(false, {1, 2});  // 2 labels for 3 images
  expect_mnist_error(dir_.path(), {"t10k-labels-idx1-ubyte", "2 labels", "3 images"});
  write(false, {1, 2, 10});
  expect_mnist_error(dir_.path(), {"label 10 of sample 2"});
}

TEST_F(MnistFiles, MissingFilesListWhatWasLookedFor) {
  expect_mnist_error(dir_.path(), {"t10k-images-idx3-ubyte.gz", "datasets/fetch mnist"});
  expect_mnist_error(dir_ / "nope", {"does not exist"});
}

TEST_F(MnistFiles, UnreadableFileNamesTheFile) {
  if (geteuid() == 0) GTEST_SKIP() << "running as root: file permissions do not restrict reads";
  write(false);
  ASSERT_EQ(chmod(images_path().c_str(), 0), 0);
  expect_mnist_error(dir_.path(), {images_path(), "cannot open", "Permission denied"});
}

}  // namespace
}  // namespace bmc
