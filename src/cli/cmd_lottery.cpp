// `bmc lottery`: iterative magnitude pruning with OpenLTH's semantics (levels, sparse_global or
// layer-wise pruning, layers to ignore, rewinding), one resumable run directory per level.
#include <cstdio>

#include "cli/commands.h"
#include "cli/pruning_flags.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/lottery/lottery.h"

namespace bmc::cli {
int run_lottery(const std::vector<std::string>& argv) {
  Args args("lottery", "Iterative magnitude pruning (lottery tickets), OpenLTH semantics.");
  declare_train_flags(args);
  args.option("levels", "15", "pruning levels after the dense level 0");
  args.option("pruning-fraction", "0.2", "fraction of the remaining weights pruned per level");
  declare_pruning_flags(args);
  args.option("rewinding-steps", "0it", "rewind survivors to the weights of this step (0it: to initialisation)");
  args.option("rewind-optimizer", "state", "at a rewinding step: restore SGD momentum (state) or start fresh as OpenLTH does (fresh)");
  if (!args.parse(argv)) return 0;
  lottery::LotteryConfig config;
  config.train = hparams_from_flags(args);
  config.levels = args.get_int("levels");
  if (config.levels < 0) throw UsageError{"--levels must be >= 0"};
  config.pruning = pruning_from_flags(args, config.train.model);
  config.pruning.fraction = args.get_double("pruning-fraction");
  if (!(config.pruning.fraction > 0 && config.pruning.fraction < 1))
    throw UsageError{"--pruning-fraction must be in (0, 1)"};
  config.rewinding = train::Duration::parse(args.get("rewinding-steps"));
  const std::string rewind_optimizer = args.get("rewind-optimizer");
  if (rewind_optimizer != "state" && rewind_optimizer != "fresh")
    throw UsageError{"--rewind-optimizer expects state or fresh"};
  config.rewind_optimizer = rewind_optimizer == "state";

  Session session(args, config.train);
  // Checked before level 0 trains, not when level 1 needs them.
  check_pruning_layers(config.pruning, *session.make_model());
  const int64_t steps_per_epoch = session.train_loader().steps_per_epoch();
  if (config.rewinding.steps(steps_per_epoch) > config.train.training_length.steps(steps_per_epoch))
    throw UsageError{"--rewinding-steps " + config.rewinding.str() + " is beyond the training length " +
                     config.train.training_length.str()};
  nlohmann::json hparams = config.train.to_json();
  hparams["pruning"] = {{"strategy", args.get("pruning-strategy")},
                        {"fraction", config.pruning.fraction},
                        {"ignore", std::vector<std::string>(config.pruning.ignore.begin(), config.pruning.ignore.end())},
                        {"rewinding", config.rewinding.str()},
                        {"rewind_optimizer", rewind_optimizer}};
  const std::string hash = train::run_id(hparams);
  const io::RunDir root = io::RunDir::open(args.get("out"), "lottery", hash, hparams);
  std::fprintf(stderr, "bmc lottery: run directory %s\n", root.path().c_str());
  lottery::LotteryRunner runner(config, [&] { return session.make_model(); }, session.train_loader(),
                                session.test_loader(), root,
                                options_from_flags(args, steps_per_epoch));
  const auto rows = runner.run();
  std::printf("run directory: %s\n", root.path().c_str());
  if (args.on("json")) {
    std::printf("%s\n", root.read_summary().dump().c_str());
    return 0;
  }
  std::printf("%5s  %10s  %12s  %9s  %9s\n", "level", "density", "remaining", "top-1", "best");
  for (const auto& r : rows)
    std::printf("%5d  %9.4f%%  %12lld  %8.2f%%  %8.2f%%\n", r.level, 100 * r.density,
                static_cast<long long>(r.remaining), 100 * r.test_top1, 100 * r.best_top1);
  return 0;
}

}  // namespace bmc::cli
