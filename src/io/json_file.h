// JSON read from run directories (hparams, summaries, the latest-checkpoint pointer) and from
// file metadata, with bad input as one bmc::Error naming the file: a torn or hand-edited file is a
// clear line and exit code 2, never a JSON library exception.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bmc::io {

nlohmann::json read_json_file(const std::string& path);
// `what` names where the text came from ("<file>: metadata 'owners'").
nlohmann::json parse_json_text(const std::string& text, const std::string& what);

}  // namespace bmc::io
