// libFuzzer target: bmc's JSON reading of run files (latest.json, summary.json, hparams.json) on
// arbitrary text: parse_json_text must give a value or one bmc::Error, never a crash or a raw
// library exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/json_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nlohmann::json j = bmc::io::parse_json_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    (void)j.dump();
  } catch (const bmc::Error&) {
  }
  return 0;
}
