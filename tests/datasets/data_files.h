// Helpers for the dataset tests: scratch folders, synthetic IDX/CIFAR/image files, and the real
// datasets under ../shared/datasets (tests skip with a message when those are absent).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bmc::test {

// A fresh folder under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& raw);
// An IDX u8 file's bytes: header for `dims` then `values`.
std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values);
// A PNG of the given HWC u8 pixels (channels 1, 3 or 4).
std::vector<uint8_t> png_bytes(int width, int height, int channels, const std::vector<uint8_t>& pixels);
// Deterministic pixel pattern for synthetic images.
std::vector<uint8_t> pattern_pixels(int width, int height, int channels, int seed);

// A learnable synthetic MNIST in `dir` (IDX files; class k brightens row band k), `train` and
// `test` images, for commands run on data CI has.
void write_synthetic_mnist(const std::string& dir, int train, int test);
// Synthetic CIFAR-10 binary batches in `dir`: five training batches and a test batch of
// `per_batch` records each (a label byte, 3072 pixels brightened by the label).
void write_synthetic_cifar10(const std::string& dir, int per_batch);

// ../shared/datasets/mnist relative to the repository root, or "" when absent.
std::string real_mnist_dir();
// The CIFAR-10 JPEG class folders extracted once (per tarball version) into the temp dir, or ""
// when ../shared/datasets/cifar10-jpeg/train.tar.gz is absent. Returns the folder holding train/.
std::string real_cifar10_jpeg_root();

}  // namespace bmc::test
