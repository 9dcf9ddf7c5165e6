// libFuzzer target: the PyTorch checkpoint reader on arbitrary bytes, two ways: as a whole file
// (zip directory, records, pickle, storages, tensor geometry) and as a bare pickle with a
// synthetic storage table (the unpickler alone). Any outcome other than a result or bmc::Error
// (a crash, a sanitizer report, a runaway allocation) is a finding.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/pickle.h"
#include "io/pth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    bmc::io::load_pth_bytes(data, size, "fuzz");
  } catch (const bmc::Error&) {
  }
  try {
    bmc::io::load_pth_bytes(data, size, "fuzz", {"", true});
  } catch (const bmc::Error&) {
  }
  try {
    int next = 0;
    bmc::io::unpickle(data, size, "fuzz", [&](const bmc::io::PersistentId&, uint64_t) { return next++; });
  } catch (const bmc::Error&) {
  }
  return 0;
}
