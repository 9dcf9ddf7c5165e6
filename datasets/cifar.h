// CIFAR-10 and CIFAR-100 binary versions. CIFAR-10: data_batch_1..5.bin and test_batch.bin,
// records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32), class names in
// batches.meta.txt. CIFAR-100: train.bin and test.bin, records of coarse + fine label bytes +
// 3072 pixels, names in coarse_label_names.txt / fine_label_names.txt.
#pragma once

#include <string>
#include <vector>

#include "datasets/byte_source.h"
#include "datasets/dataset.h"

namespace bmc::data {

constexpr int kCifarSide = 32;
constexpr int kCifarPixels = 3 * kCifarSide * kCifarSide;

Dataset load_cifar10(const std::string& dir, Split split);
// Fine labels (100 classes) by default, the 20 coarse superclasses when coarse = true.
Dataset load_cifar100(const std::string& dir, Split split, bool coarse = false);

struct CifarRecords {
  std::vector<uint8_t> pixels;  // N x 3072
  std::vector<int32_t> labels;  // N
};

// Appends the records of one binary file. label_bytes: 1 (CIFAR-10) or 2 (CIFAR-100);
// label_index selects which label byte is kept. Checks the length is a whole number of records
// and every kept label lies below num_classes; errors name `what`.
void parse_cifar_records(const Bytes& bytes, int label_bytes, int label_index, int num_classes,
                         const std::string& what, CifarRecords& out);

// One name per non-empty line; empty when the file does not exist, error when it has the wrong count.
std::vector<std::string> read_class_names(const std::string& path, int expected);

}  // namespace bmc::data
