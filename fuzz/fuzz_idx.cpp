// libFuzzer target: gzip detection + gunzip + IDX parsing + MNIST assembly on arbitrary bytes.
// Any outcome other than success or bmc::Error (a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>

#include "datasets/mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bmc::data::Bytes bytes(data, data + size);
  try {
    const bmc::data::Bytes raw = bmc::data::is_gzip(bytes) ? bmc::data::gunzip(bytes, "fuzz") : bytes;
    if (raw.size() > (size_t(64) << 20)) return 0;
    const bmc::data::IdxArray images = bmc::data::parse_idx_u8(raw, 3, "fuzz");
    bmc::data::IdxArray labels;
    labels.dims = {images.dims[0]};
    labels.values.assign(static_cast<size_t>(images.dims[0]), 1);
    bmc::data::mnist_from_idx(images, labels, "fuzz", "fuzz");
  } catch (const bmc::Error&) {
  }
  try {
    bmc::data::parse_idx_u8(bytes, 1, "fuzz");
  } catch (const bmc::Error&) {
  }
  return 0;
}
