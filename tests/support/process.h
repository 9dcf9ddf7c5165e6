// Running a shell command from a test: its exit code and its output (stdout and stderr together).
#pragma once

#include <string>

namespace bmc::test {

struct CommandResult {
  int code = -1;  // -1 when it could not start or did not exit normally
  std::string output;
};

CommandResult run_command(const std::string& command);

}  // namespace bmc::test
