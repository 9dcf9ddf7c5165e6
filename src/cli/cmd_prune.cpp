// `bmc prune`: one-shot pruning of a trained model to a target sparsity (magnitude, global or
// layer-wise), or random pruning with the same per-layer densities. Writes a mask for
// `bmc train --mask`, which gives the sanity-check settings: LT-OMP (mask + original init),
// LR rewinding (--init-from the trained weights), RR-OMP (another --seed), random pruning.
// --pattern 2:4 prunes with NVIDIA ASP's 2:4 magnitude mask instead (compress/prune/two_of_four.h);
// fine-tuning with it (bmc train --mask M --init-from C) makes a 2:4 checkpoint.
#include <cstdio>

#include "cli/commands.h"
#include "cli/args.h"
#include "cli/pruning_flags.h"
#include "compress/prune/model_pruning.h"
#include "compress/prune/two_of_four.h"
#include "io/run_dir.h"
#include "models/registry.h"
#include "train/checkpoint.h"
#include "train/hparams.h"

namespace bmc::cli {

int run_prune(const std::vector<std::string>& argv) {
  Args args("prune", "One-shot magnitude (or random) pruning of a trained model; writes mask.safetensors.");
  args.option("model", "", "architecture of the checkpoint (required)");
  args.option("checkpoint", "", "trained weights, safetensors state_dict (required)");
  args.option("mask", "", "existing mask to prune further (default: dense)");
  args.option("sparsity", "0.9", "fraction of the remaining prunable weights to remove");
  declare_pruning_flags(args);
  args.flag("random", "random mask with the per-layer densities the magnitude mask would have");
  args.option("seed", "0", "seed of the random mask");
  args.option("pattern", "unstructured", "unstructured, or 2:4 (ASP: 2 of every 4 input channels at each output and tap)");
  args.option("out", "runs", "root folder for run directories");
  args.flag("json", "print the summary as one JSON line on stdout");
  if (!args.parse(argv)) return 0;
  if (!args.given("model") || !args.given("checkpoint")) throw UsageError{"bmc prune: --model and --checkpoint are required"};
  const std::string pattern = args.get("pattern");
  if (pattern != "unstructured" && pattern != "2:4") throw UsageError{"--pattern is unstructured or 2:4"};
  const bool two_of_four = pattern == "2:4";
  if (two_of_four && (args.given("mask") || args.on("random") || args.given("sparsity") || args.given("pruning-strategy")))
    throw UsageError{"bmc prune --pattern 2:4 prunes a dense checkpoint by itself; drop --mask, --random, --sparsity and --pruning-strategy"};
  compress::PruningOptions options = pruning_from_flags(args, args.get("model"));
  // ASP leaves dense only what it cannot prune, so 2:4 ignores the model's default list.
  if (two_of_four && !args.given("pruning-layers-to-ignore")) options.ignore.clear();
  options.fraction = two_of_four ? 0.5 : args.get_double("sparsity");
  if (!(options.fraction > 0 && options.fraction < 1)) throw UsageError{"--sparsity must be in (0, 1)"};
  nlohmann::json hparams = {{"model", args.get("model")},
                            {"checkpoint", train::file_digest(args.get("checkpoint"))},
                            {"mask", args.given("mask") ? train::file_digest(args.get("mask")) : ""},
                            {"sparsity", options.fraction},
                            {"strategy", args.get("pruning-strategy")},
                            {"ignore", std::vector<std::string>(options.ignore.begin(), options.ignore.end())},
                            {"random", args.on("random")},
                            {"seed", args.get_int64("seed")}};
  if (two_of_four) hparams["pattern"] = pattern;  // unstructured runs keep their directories
  auto model = models::make_model(args.get("model"), Device::cpu());
  check_pruning_layers(options, *model);
  const io::RunDir dir = io::RunDir::open(args.get("out"), "prune", train::TrainHparams::hash_of(hparams), hparams);
  train::load_weights(args.get("checkpoint"), *model);
  if (args.given("mask")) {
    compress::load_mask(args.get("mask"), *model);
    compress::check_ignored_layers_dense(*model, options.ignore, args.get("mask"));
  }
  std::vector<std::string> dense;
  if (two_of_four) {
    dense = compress::prune_two_of_four(*model, options.ignore).dense;
    options.ignore.clear();  // the mask file lists every layer, the dense ones as all ones
  } else {
    compress::prune_by_magnitude(*model, options);
  }
  if (args.on("random")) {
    const auto densities = compress::layer_densities(*model, options.ignore);
    model->reset_masks();
    compress::apply_random_masks(*model, densities, static_cast<uint64_t>(args.get_int64("seed")));
  }
  compress::save_mask(dir.file("mask.safetensors"), *model, options.ignore);

  nlohmann::json layers = nlohmann::json::array();
  int64_t remaining = 0, total = 0;
  for (const auto& d : compress::layer_densities(*model, options.ignore)) {
    layers.push_back({{"name", d.name}, {"remaining", d.remaining}, {"total", d.total}});
    remaining += d.remaining;
    total += d.total;
  }
  const nlohmann::json summary = {{"finished", true},       {"mask", dir.file("mask.safetensors")},
                                  {"remaining", remaining}, {"prunable", total},
                                  {"density", static_cast<double>(remaining) / total}, {"layers", layers},
                                  {"pattern", pattern}, {"dense_layers", dense}};
  dir.write_summary(summary);
  if (args.on("json")) {
    std::printf("%s\n", summary.dump().c_str());
  } else {
    std::printf("run directory: %s\nmask: %s\ndensity %.4f%% (%lld of %lld prunable weights)\n", dir.path().c_str(),
                dir.file("mask.safetensors").c_str(), 100.0 * remaining / total, static_cast<long long>(remaining),
                static_cast<long long>(total));
  }
  return 0;
}

}  // namespace bmc::cli
