// libFuzzer target: CIFAR-10 and CIFAR-100 record parsing on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "datasets/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bmc::data::Bytes bytes(data, data + size);
  for (int label_bytes : {1, 2}) {
    try {
      bmc::data::CifarRecords records;
      bmc::data::parse_cifar_records(bytes, label_bytes, label_bytes - 1, label_bytes == 1 ? 10 : 100, "fuzz",
                                     records);
      if (records.pixels.size() != records.labels.size() * bmc::data::kCifarPixels) __builtin_trap();
    } catch (const bmc::Error&) {
    }
  }
  return 0;
}
