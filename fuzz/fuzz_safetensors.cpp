// libFuzzer target: the safetensors reader (header JSON, dtypes, shapes, offsets, overlaps,
// checksum) on arbitrary bytes. Any outcome other than a result or bmc::Error is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    bmc::io::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const bmc::Error&) {
  }
  return 0;
}
