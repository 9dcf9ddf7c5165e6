// `bmc sparq quantize` and `bmc sparq eval`: SPARQ post-training quantization named like the
// method's own entry points (--action QUANTIZE, INFERENCE --eval). quantize calibrates the
// activation ranges of every conv after the stem on training batches in train mode (batch-norm
// re-estimated as a side effect, as upstream), evaluates the plain x_bits / w_bits model and
// writes the model and the ranges into a run directory; eval reads them back, re-estimates
// batch-norm with the windows active (on by default) and evaluates bSPARQ, vSPARQ or STC on the
// exact integer GEMM. The method's note: ../shared/docs/algorithms/sparq.md; bmc's record of it:
// docs/sparq.md.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/quant/model_size.h"
#include "compress/sparq/sparq_model.h"
#include "io/atomic_file.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"

namespace bmc::cli {
namespace {

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kRangesFile = "ranges.json";

void declare_common_flags(Args& args) {
  declare_model_data_flags(args);
  args.option("data-seed", "0", "order and augmentation of the calibration / batch-norm batches");
  args.option("calib-batches", "", "train-mode batches (default: upstream's 2048 / batch size + 1, 17 at 128)");
  args.flag("skip-bn-recal", "keep the checkpoint's batch-norm statistics (no train-mode re-estimation)");
}

int64_t pass_batches(const Args& args, int batch_size, int64_t steps_per_epoch) {
  if (args.given("calib-batches")) {
    const int64_t n = args.get_int64("calib-batches");
    if (n < 1) throw UsageError{"--calib-batches must be at least 1"};
    return n;
  }
  const int64_t n = compress::upstream_calibration_batches(batch_size);
  if (n > 0) return std::min(n, steps_per_epoch);
  std::fprintf(stderr, "bmc sparq: batch size %d does not divide 2048, so (as upstream) the pass covers a whole epoch\n",
               batch_size);
  return steps_per_epoch;
}

nlohmann::json eval_json(const train::EvalResult& r) {
  return {{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}, {"examples", r.examples},
          {"images_per_second", r.images_per_second}};
}

nlohmann::json size_json(const compress::SparqSize& s, int64_t float_bits) {
  return {{"total_bits", s.total()},
          {"quantized_weight_bits", s.quantized_weight_bits},
          {"metadata_bits", s.metadata_bits},
          {"scale_bits", s.scale_bits},
          {"float_bits", s.float_bits},
          {"fp32_model_bits", float_bits},
          {"activations_per_image", s.activations_per_image},
          {"window_shift_bits_per_activation", s.shift_bits}};
}

int sparq_quantize(const std::vector<std::string>& argv) {
  Args args("sparq quantize",
            "SPARQ's 8-bit step: calibrate activation ranges (and batch-norm) on training batches, evaluate, save.");
  declare_common_flags(args);
  args.option("checkpoint", "", "model weights (safetensors state_dict or .pth), required");
  args.option("mask", "", "apply this mask first (a 2:4 mask from bmc prune --pattern 2:4, say)");
  args.option("x-bits", "8", "activation bits (unsigned, per tensor)");
  args.option("w-bits", "8", "weight bits (symmetric, per output channel)");
  if (!args.parse(argv)) return 0;
  train::TrainHparams hp = checkpoint_hparams_from_flags(args, "sparq quantize");
  const int x_bits = args.get_int("x-bits"), w_bits = args.get_int("w-bits");
  if (x_bits < 2 || x_bits > 8 || w_bits < 2 || w_bits > 8) throw UsageError{"--x-bits and --w-bits must be 2..8"};

  Session session(args, hp);
  auto model = session.load_model(args.get("checkpoint"), args.get("mask"));
  const int64_t batches = pass_batches(args, hp.batch_size, session.train_loader().steps_per_epoch());
  nlohmann::json hp_json = {{"checkpoint", hp.init_digest}, {"mask", hp.mask_digest},   {"model", hp.model},
                            {"dataset", hp.dataset},        {"holdout_per_class", hp.holdout_per_class},
                            {"x_bits", x_bits},             {"w_bits", w_bits},         {"batch_size", hp.batch_size},
                            {"data_seed", hp.data_seed},    {"calib_batches", batches},
                            {"bn_recal", !args.on("skip-bn-recal")}};
  const io::RunDir dir =
      io::RunDir::open(args.get("out"), "sparq_quantize", train::TrainHparams::hash_of(hp_json), hp_json);

  const train::EvalResult fp = train::evaluate(*model, session.test_loader(), nullptr, "fp32 eval");
  auto kernels = compress::attach_sparq(*model, x_bits, w_bits);
  for (auto* k : kernels) k->set_calibrating(true);
  compress::calibration_passes(*model, session.train_loader(), 0, batches, !args.on("skip-bn-recal"), "calibrate");
  for (auto* k : kernels) k->set_calibrating(false);
  const train::EvalResult q = train::evaluate(*model, session.test_loader(), nullptr, "quantized eval");

  // The float weights and the (re-estimated) batch-norm statistics, loadable anywhere.
  io::save_safetensors(dir.file(kModelFile), io::state_dict(*model));
  io::write_file_atomic(dir.file(kRangesFile), compress::ranges_json(kernels).dump(1) + "\n");
  const compress::SparqSize size = compress::sparq_model_size(*model, kernels, false, 1);

  nlohmann::json summary = {{"finished", true},
                            {"model", hp.model},
                            {"dataset", hp.dataset},
                            {"eval_split", session.splits().test_split},
                            {"fp32", eval_json(fp)},
                            {"quantized", eval_json(q)},
                            {"test_top1", q.top1},
                            {"x_bits", x_bits},
                            {"w_bits", w_bits},
                            {"calib_batches", batches},
                            {"calib_images", kernels.at(0)->range_images()},
                            {"quantized_layers", kernels.size()},
                            {"size", size_json(size, compress::float_model_bits(*model))},
                            {"files", {{"model", dir.file(kModelFile)}, {"ranges", dir.file(kRangesFile)}}}};
  dir.write_summary(summary);
  std::fprintf(stderr, "bmc sparq quantize: A%dW%d over %zu convs: top-1 %.2f%% top-5 %.2f%% (fp32 %.2f%% / %.2f%%)\n",
               x_bits, w_bits, kernels.size(), 100 * q.top1, 100 * q.top5, 100 * fp.top1, 100 * fp.top5);
  return session.report(dir, summary);
}

BitWindow window_from_flags(const Args& args) {
  const std::string round = args.get("round-mode");
  if (round != "RAW" && round != "ROUND") throw UsageError{"--round-mode is RAW or ROUND"};
  const int group = args.get_int("bit-group"), shift = args.get_int("shift-opt");
  if (group != 4 && group != 3 && group != 2) throw UsageError{"--bit-group is 4, 3 or 2"};
  if (shift != 5 && shift != 3 && shift != 2) throw UsageError{"--shift-opt is 5, 3 or 2"};
  return sparq_window(group, shift, round == "RAW" ? WindowRound::Raw : WindowRound::Round);
}

int sparq_eval(const std::vector<std::string>& argv) {
  Args args("sparq eval",
            "SPARQ inference: bSPARQ / vSPARQ windows (or STC on 2:4 weights) on the exact integer GEMM.");
  declare_common_flags(args);
  args.option("from", "", "run directory of bmc sparq quantize (its model and ranges), required");
  args.option("round-mode", "ROUND", "RAW (truncate below the window) or ROUND (half to even, saturating)");
  args.option("shift-opt", "5", "4-bit windows: 5 (every placement), 3 (shifts 0, 2, 4) or 2 (0, 4)");
  args.option("bit-group", "4", "window bits: 4, 3 or 2 (3 and 2 use every placement)");
  args.flag("vsparq", "pair rule: a code whose pair partner is zero keeps 2n bits (all 8 for 4-bit windows)");
  args.flag("stc", "2:4 weights: pairs are the two activations of each group's non-zero weights (implies --vsparq)");
  args.flag("exact", "no windows: the quantize step's codes as they are (the 8-bit or plain low-bit baseline)");
  args.flag("reference", "evaluate every output directly (the oracle; slow) instead of the dense integer GEMM");
  args.option("logits", "", "write the logits of the evaluated split to this safetensors file");
  if (!args.parse(argv)) return 0;
  if (!args.given("from")) throw UsageError{"bmc sparq eval: --from (a bmc sparq quantize run directory) is required"};
  if (args.on("exact") && (args.on("vsparq") || args.on("stc")))
    throw UsageError{"bmc sparq eval: --exact evaluates without windows; drop --vsparq / --stc"};
  const std::string from = args.get("from");
  const nlohmann::json from_hp = io::read_json_file(from + "/hparams.json");
  const nlohmann::json ranges = io::read_json_file(from + "/" + kRangesFile);
  train::TrainHparams hp = hparams_from_flags(args);
  if (from_hp.value("model", "") != hp.model)
    throw UsageError{"bmc sparq eval: " + from + " quantized " + from_hp.value("model", "?") + ", not --model " +
                     hp.model};
  hp.init_digest = train::file_digest(from + "/" + kModelFile);
  const BitWindow window = window_from_flags(args);
  const compress::SparqMode mode = args.on("exact") ? compress::SparqMode::Exact
                                   : args.on("stc")  ? compress::SparqMode::Stc
                                   : args.on("vsparq") ? compress::SparqMode::Pairs
                                                      : compress::SparqMode::Window;

  Session session(args, hp);
  auto model = session.load_model(from + "/" + kModelFile, "");
  const int x_bits = ranges.value("x_bits", 8), w_bits = ranges.value("w_bits", 8);
  auto kernels = compress::attach_sparq(*model, x_bits, w_bits);
  compress::load_ranges(ranges, kernels);
  for (auto* k : kernels) {
    k->set_mode(mode, window);
    k->set_reference(args.on("reference"));
  }
  const int64_t batches = pass_batches(args, hp.batch_size, session.train_loader().steps_per_epoch());
  nlohmann::json hp_json = {{"quantized", hp.init_digest},
                            {"model", hp.model},
                            {"dataset", hp.dataset},
                            {"holdout_per_class", hp.holdout_per_class},
                            {"mode", compress::sparq_mode_name(mode)},
                            {"round_mode", args.get("round-mode")},
                            {"shift_opt", args.get_int("shift-opt")},
                            {"bit_group", args.get_int("bit-group")},
                            {"batch_size", hp.batch_size},
                            {"data_seed", hp.data_seed},
                            {"bn_batches", batches},
                            {"bn_recal", !args.on("skip-bn-recal")}};
  const io::RunDir dir = io::RunDir::open(args.get("out"), "sparq_eval", train::TrainHparams::hash_of(hp_json), hp_json);

  // The second re-estimation reads the batches after the quantize step's, with SPARQ active.
  if (!args.on("skip-bn-recal"))
    compress::calibration_passes(*model, session.train_loader(), batches, batches, true, "batch-norm recal");
  Tensor logits;
  const train::EvalResult ev =
      train::evaluate(*model, session.test_loader(), args.given("logits") ? &logits : nullptr, "sparq eval");
  if (args.given("logits")) io::save_safetensors(args.get("logits"), {{"logits", &logits}});
  const bool compressed = mode == compress::SparqMode::Stc;
  const compress::SparqSize size = compress::sparq_model_size(
      *model, kernels, compressed, mode == compress::SparqMode::Exact ? 1 : compress::window_placements(window));
  // Every distinct kernel that ran (on a GPU a layer whose weights are not 2:4 stays dense).
  std::vector<std::string> ran;
  for (const auto* k : kernels)
    if (std::find(ran.begin(), ran.end(), k->describe()) == ran.end()) ran.push_back(k->describe());
  const std::string kernel = ran.front();

  nlohmann::json summary = session.eval_summary(ev);
  summary.update({{"mode", compress::sparq_mode_name(mode)},
                  {"kernel", kernel},
                  {"kernels", ran},
                  {"x_bits", x_bits},
                  {"w_bits", w_bits},
                  {"bn_recal_batches", args.on("skip-bn-recal") ? 0 : batches},
                  {"size", size_json(size, compress::float_model_bits(*model))}});
  dir.write_summary(summary);
  std::fprintf(stderr, "bmc sparq eval: %s: top-1 %.2f%% top-5 %.2f%% (%lld images, %.0f images/s)\n", kernel.c_str(),
               100 * ev.top1, 100 * ev.top5, static_cast<long long>(ev.examples), ev.images_per_second);
  return session.report(dir, summary);
}

}  // namespace

int run_sparq(const std::vector<std::string>& argv) {
  const char* usage = "usage: bmc sparq quantize|eval [flags]   (bmc sparq <action> --help for the flags)";
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
    std::printf("%s\n", usage);
    return argv.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "quantize") return sparq_quantize(rest);
  if (argv[0] == "eval") return sparq_eval(rest);
  throw UsageError{std::string("bmc sparq: unknown action '") + argv[0] + "'; " + usage};
}

}  // namespace bmc::cli
