#include "io/json_file.h"

#include "core/error.h"
#include "io/atomic_file.h"

namespace bmc::io {

nlohmann::json parse_json_text(const std::string& text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    BMC_FAIL(what, " is not valid JSON (torn or edited); remove it, or the run directory, to start over");
  }
}

nlohmann::json read_json_file(const std::string& path) { return parse_json_text(read_file(path), path); }

}  // namespace bmc::io
