#include "datasets/cifar.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace bmc::data {
namespace fs = std::filesystem;
namespace {

Dataset to_dataset(CifarRecords&& records, std::string name, int num_classes, std::vector<std::string> names) {
  const int64_t n = static_cast<int64_t>(records.labels.size());
  Dataset d;
  d.name = std::move(name);
  d.num_classes = num_classes;
  d.class_names = std::move(names);
  if (d.class_names.empty())
    for (int c = 0; c < num_classes; ++c) d.class_names.push_back(std::to_string(c));
  d.images = Tensor({n, 3, kCifarSide, kCifarSide}, DType::U8);
  d.labels = Tensor({n}, DType::I32);
  if (n > 0) {
    std::memcpy(d.images.raw(), records.pixels.data(), records.pixels.size());
    std::memcpy(d.labels.raw(), records.labels.data(), records.labels.size() * sizeof(int32_t));
  }
  return d;
}

std::string require_file(const std::string& dir, const std::string& name, const std::string& dataset) {
  const fs::path p = fs::path(dir) / name;
  BMC_CHECK(fs::exists(p), p.string(), ": missing ", dataset, " binary file; run `datasets/fetch ", dataset,
            "` or point at the folder holding the binary version");
  return p.string();
}

}  // namespace

void parse_cifar_records(const Bytes& bytes, int label_bytes, int label_index, int num_classes,
                         const std::string& what, CifarRecords& out) {
  const size_t record = static_cast<size_t>(label_bytes + kCifarPixels);
  BMC_CHECK(!bytes.empty(), what, ": empty CIFAR file");
  BMC_CHECK(bytes.size() % record == 0, what, ": ", bytes.size(), " bytes is not a whole number of ", record,
            "-byte CIFAR records (truncated or not a CIFAR binary file)");
  const size_t n = bytes.size() / record;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes.data() + i * record;
    BMC_CHECK(r[label_index] < num_classes, what, ": record ", i, " has label ", int(r[label_index]),
              ", outside [0, ", num_classes, ") (not a CIFAR-", num_classes == 10 ? "10" : "100", " file?)");
    out.labels.push_back(r[label_index]);
    out.pixels.insert(out.pixels.end(), r + label_bytes, r + record);
  }
}

std::vector<std::string> read_class_names(const std::string& path, int expected) {
  std::vector<std::string> names;
  std::ifstream in(path);
  if (!in) return names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  BMC_CHECK(static_cast<int>(names.size()) == expected, path, ": ", names.size(), " class names, expected ",
            expected);
  return names;
}

Dataset load_cifar10(const std::string& dir, Split split) {
  BMC_CHECK(fs::is_directory(dir), dir, ": CIFAR-10 directory does not exist");
  std::vector<std::string> files;
  if (split == Split::Train)
    for (int b = 1; b <= 5; ++b) files.push_back("data_batch_" + std::to_string(b) + ".bin");
  else
    files.push_back("test_batch.bin");
  CifarRecords records;
  for (const auto& f : files) {
    const std::string path = require_file(dir, f, "cifar10");
    parse_cifar_records(read_maybe_gzip(path), 1, 0, 10, path, records);
  }
  return to_dataset(std::move(records), "cifar10", 10,
                    read_class_names((fs::path(dir) / "batches.meta.txt").string(), 10));
}

Dataset load_cifar100(const std::string& dir, Split split, bool coarse) {
  BMC_CHECK(fs::is_directory(dir), dir, ": CIFAR-100 directory does not exist");
  const std::string path = require_file(dir, split == Split::Train ? "train.bin" : "test.bin", "cifar100");
  const int classes = coarse ? 20 : 100;
  CifarRecords records;
  parse_cifar_records(read_maybe_gzip(path), 2, coarse ? 0 : 1, classes, path, records);
  const std::string names_file = coarse ? "coarse_label_names.txt" : "fine_label_names.txt";
  return to_dataset(std::move(records), coarse ? "cifar100-coarse" : "cifar100", classes,
                    read_class_names((fs::path(dir) / names_file).string(), classes));
}

}  // namespace bmc::data
