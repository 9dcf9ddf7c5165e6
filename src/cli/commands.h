// The bmc subcommands. Each takes the arguments after its name and returns the exit code;
// UsageError and bmc::Error are turned into one-line messages by main.
#pragma once

#include <string>
#include <vector>

namespace bmc::cli {

int run_info(const std::vector<std::string>& args);
int run_data(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);
int run_lottery(const std::vector<std::string>& args);
int run_prune(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_quantize(const std::vector<std::string>& args);
int run_qlth(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);
int run_sparq(const std::vector<std::string>& args);
int run_bsq(const std::vector<std::string>& args);
int run_latticeq(const std::vector<std::string>& args);

}  // namespace bmc::cli
