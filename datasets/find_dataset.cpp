#include "datasets/find_dataset.h"

#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace bmc::data {
namespace fs = std::filesystem;
namespace {

bool exists_any(const fs::path& dir, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (fs::exists(dir / n)) return true;
  return false;
}

}  // namespace

std::vector<std::string> dataset_search_path(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("BMC_DATA"); env && *env) dirs.push_back((fs::path(env) / name).string());
  dirs.push_back((fs::path("..") / "shared" / "datasets" / name).string());
  dirs.push_back((fs::path("data") / name).string());
  return dirs;
}

bool dataset_dir_complete(const std::string& name, const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) return false;
  if (name == "mnist" || name == "fashion-mnist")
    return exists_any(d, {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"}) &&
           exists_any(d, {"t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz"});
  if (name == "cifar10") return exists_any(d, {"data_batch_5.bin"}) && exists_any(d, {"test_batch.bin"});
  if (name == "cifar100") return exists_any(d, {"train.bin"}) && exists_any(d, {"test.bin"});
  if (name == "cifar10-jpeg") return exists_any(d, {"train", "train.tar.gz"});
  BMC_FAIL("unknown dataset '", name, "' (known: mnist, fashion-mnist, cifar10, cifar100, cifar10-jpeg)");
}

std::string find_dataset_dir(const std::string& name) {
  std::string looked;
  for (const auto& dir : dataset_search_path(name)) {
    if (dataset_dir_complete(name, dir)) return dir;
    looked += "\n  " + dir;
  }
  BMC_FAIL("dataset '", name, "' not found; looked in:", looked, "\nrun `datasets/fetch ", name,
           "` (or `bmc data fetch ", name, "`), or set BMC_DATA to a folder holding ", name, "/");
}

}  // namespace bmc::data
