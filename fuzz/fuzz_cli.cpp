// libFuzzer target: the command-line parser and the value parsers behind it on arbitrary
// arguments (NUL-separated): flags, `--name=value`, numbers (int, int64, double) and durations
// ("40ep", "2000it", lists). Outcomes other than a result, UsageError or bmc::Error are findings.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/error.h"
#include "train/hparams.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> argv(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      argv.emplace_back();
    } else {
      argv.back().push_back(static_cast<char>(data[i]));
    }
  }
  bmc::cli::Args args("fuzz", "fuzzed command line");
  args.option("lr", "0.1", "a double");
  args.option("batch-size", "128", "an int");
  args.option("seed", "0", "an int64");
  args.option("training-steps", "40ep", "a duration");
  args.option("milestones", "", "durations");
  args.flag("json", "a switch");
  args.alias("bs", "batch-size");
  args.positionals("runs", "bare arguments");
  try {
    if (!args.parse(argv)) return 0;
    (void)args.get_double("lr");
    (void)args.get_int("batch-size");
    (void)args.get_int64("seed");
    const bmc::train::Duration d = bmc::train::Duration::parse(args.get("training-steps"));
    (void)d.steps(391);
    (void)d.str();
    for (const auto& m : bmc::train::parse_durations(args.get("milestones"))) (void)m.steps(1);
  } catch (const bmc::cli::UsageError&) {
  } catch (const bmc::Error&) {
  }
  return 0;
}
