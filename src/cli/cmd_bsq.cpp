// `bmc bsq convert|train|finetune|eval`: BSQ, bit-level sparsity quantization, named like the
// method's scripts (convert.py, cifar_prune_STE.py, cifar_finetune.py and its --evaluate). convert
// turns a float checkpoint into the bit form at --nbits (or at the precisions of another BSQ run:
// the "same scheme from scratch" baseline); train runs bit-plane training with the group-lasso
// regularizer, re-quantizing and adjusting every layer's precision at the start of every
// --prun-int epochs and after the last; finetune trains the found scheme at fixed precisions;
// eval reports accuracy, precisions, plane statistics and compression. Every run writes the bit
// form (*_bits.safetensors) and a float export that bmc eval and PyTorch load. The method's note:
// ../shared/docs/algorithms/bsq.md; bmc's record of it: docs/bsq.md.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/bsq/bsq_model.h"
#include "compress/bsq/bsq_training.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"

namespace bmc::cli {
namespace {

constexpr const char* kConvertBits = "model_bits.safetensors";
constexpr const char* kConvertFloat = "model_float.safetensors";

// A bit-form file, or a run directory: bsq finetune's best model (upstream keeps the best
// fine-tuned model), bsq train's final one (re-quantized after the last epoch, the one upstream
// fine-tunes), bsq convert's bit form.
std::string resolve_bits(const std::string& from, const char* flag) {
  if (from.empty()) throw UsageError{std::string("--") + flag + " is required"};
  if (!std::filesystem::is_directory(from)) {
    if (!std::filesystem::exists(from)) throw UsageError{std::string("--") + flag + " " + from + " does not exist"};
    return from;
  }
  const std::string dir = std::filesystem::path(from).lexically_normal().filename().string().empty()
                              ? std::filesystem::path(from).lexically_normal().parent_path().filename().string()
                              : std::filesystem::path(from).lexically_normal().filename().string();
  const char* name = dir.rfind("bsq_finetune_", 0) == 0 ? "model_best_bits.safetensors"
                     : dir.rfind("bsq_train_", 0) == 0  ? "model_final_bits.safetensors"
                                                        : kConvertBits;
  const std::string path = (std::filesystem::path(from) / name).string();
  if (!std::filesystem::exists(path))
    throw UsageError{std::string("--") + flag + " " + from + " holds no " + name + " (is the run finished?)"};
  return path;
}

int parse_act(const Args& args) {
  const std::string a = args.get("act");
  if (a == "none") return -1;
  const int bits = args.get_int("act");
  if (bits < 0 || bits > 16) throw UsageError{"--act must be 0..16 (0: PACT without quantization) or none"};
  return bits;
}

nlohmann::json eval_json(const train::EvalResult& r) {
  return {{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}, {"examples", r.examples}};
}

nlohmann::json scheme_json(const compress::BsqScheme& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, b] : s) j[name] = b;
  return j;
}

void print_changes(const char* when, const std::vector<compress::BsqLayer>& layers,
                   const std::vector<compress::PrecisionChange>& changes) {
  std::fprintf(stderr, "bsq: %s: %s\n", when, compress::describe_precision_changes(layers, changes).c_str());
}

nlohmann::json summary_of(const Session& session, const std::vector<compress::BsqLayer>& layers,
                          const std::map<std::string, compress::BsqActivation*>& acts, const train::EvalResult& ev) {
  nlohmann::json s = session.eval_summary(ev);
  s["bsq"] = compress::bsq_report(layers, acts);
  s["precisions"] = scheme_json(compress::bsq_scheme(layers, true));
  return s;
}

int bsq_convert(const std::vector<std::string>& argv) {
  Args args("bsq convert", "Float checkpoint -> BSQ bit form at --nbits (or at another BSQ run's precisions).");
  declare_model_data_flags(args);
  args.option("checkpoint", "", "float weights (safetensors state_dict or .pth), required");
  args.option("mask", "", "a pruning mask (a lottery ticket): pruned weights get zero planes and cost no bits");
  args.option("nbits", "8", "precision of every quantized layer");
  args.option("scheme", "", "take each layer's precision from this BSQ run or bit-form file (0 bits: a zero layer)");
  args.option("act", "4", "activation bits (ReLU6 above 3, PACT at 3 or fewer), or none");
  args.flag("upstream-clamp", "clamp the PACT clip to [0, 2] as upstream's parameter clamp does");
  if (!args.parse(argv)) return 0;
  train::TrainHparams hp = checkpoint_hparams_from_flags(args, "bsq convert");
  const int nbits = args.get_int("nbits"), act = parse_act(args);
  if (nbits < 1 || nbits > 16) throw UsageError{"--nbits must be 1..16"};

  Session session(args, hp);
  compress::BsqScheme scheme;
  if (args.given("scheme")) {
    auto donor = session.make_model();
    auto loaded = compress::load_bsq_bits(resolve_bits(args.get("scheme"), "scheme"), *donor, false);
    scheme = compress::bsq_scheme(loaded.layers, true);
  }
  nlohmann::json hp_json = {{"checkpoint", hp.init_digest}, {"mask", hp.mask_digest}, {"model", hp.model},
                            {"dataset", hp.dataset}, {"holdout_per_class", hp.holdout_per_class},
                            {"nbits", nbits}, {"scheme", scheme_json(scheme)}, {"act", act},
                            {"upstream_clamp", args.on("upstream-clamp")}, {"eval_batch_size", hp.eval_batch_size}};
  const io::RunDir dir = io::RunDir::open(args.get("out"), "bsq_convert", train::TrainHparams::hash_of(hp_json), hp_json);

  auto model = session.load_model(args.get("checkpoint"), args.get("mask"));
  std::map<std::string, compress::BsqActivation*> acts;
  if (act >= 0) acts = compress::attach_bsq_activations(*model, act, args.on("upstream-clamp"));
  const train::EvalResult fp = train::evaluate(*model, session.test_loader(), nullptr, "float eval");
  auto layers = compress::attach_bit_planes(*model, nbits, scheme);
  const train::EvalResult bits = train::evaluate(*model, session.test_loader(), nullptr, "bit-form eval");
  compress::save_bsq_bits(dir.file(kConvertBits), *model, layers, act, acts);
  compress::save_bsq_float(dir.file(kConvertFloat), *model, layers, act, acts);
  std::fprintf(stderr, "bsq convert: percentage of ones per plane, MSB first:\n%s",
               compress::bsq_plane_table(layers).c_str());
  print_changes("converted", layers, std::vector<compress::PrecisionChange>(layers.size()));

  nlohmann::json summary = summary_of(session, layers, acts, bits);
  summary["float"] = eval_json(fp);
  summary["files"] = {{"bits", dir.file(kConvertBits)}, {"float", dir.file(kConvertFloat)}};
  dir.write_summary(summary);
  return session.report(dir, summary);
}

struct TrainKind {
  const char* command;
  const char* duration, *milestones;
  float lr;
};

// The flags and hparams bsq train and bsq finetune share (upstream's schedule as defaults).
train::TrainHparams bsq_hparams(const Args& args, const TrainKind& kind) {
  train::TrainHparams hp = hparams_from_flags(args);
  if (!args.given("training-steps")) hp.training_length = train::Duration::parse(kind.duration);
  if (!args.given("milestones")) hp.milestones = train::parse_durations(kind.milestones);
  if (!args.given("lr")) hp.lr = kind.lr;
  if (!args.given("momentum")) hp.momentum = 0.9f;
  if (!args.given("weight-decay")) hp.weight_decay = 1e-4f;
  if (!args.given("gamma")) hp.gamma = 0.1f;
  return hp;
}

void declare_bsq_train_flags(Args& args) {
  declare_train_flags(args);
  args.option("from", "", "the bit form to start from: a bit-form file or a bsq convert / train run, required");
  args.option("act", "", "activation bits; must be the bit form's (the default)");
  args.flag("upstream-clamp",
            "replicate upstream's clamp of the parameters whose names lack 'bn' (the shortcut convs and "
            "batch-norms, the PACT clip)");
}

int bsq_train_or_finetune(const std::vector<std::string>& argv, bool finetune) {
  const TrainKind kind = finetune ? TrainKind{"bsq finetune", "300ep", "150ep,250ep", 0.01f}
                                  : TrainKind{"bsq train", "350ep", "250ep", 0.1f};
  Args args(kind.command, finetune ? "Fine-tune a BSQ scheme at fixed precisions; exports the bit form and floats."
                                   : "BSQ bit-plane training with the bit-level group lasso and precision adjustment.");
  declare_bsq_train_flags(args);
  if (!finetune) {
    args.option("decay", "0.01", "alpha, the regularizer's strength (0: none)");
    args.option("prun-int", "100", "epochs between re-quantization / precision adjustment");
    args.option("thre", "0.0", "precision adjustment threshold, percent of ones in a plane");
    args.option("max-bits", "8", "re-quantization grows a layer's precision up to this");
  }
  if (!args.parse(argv)) return 0;
  train::TrainHparams hp = bsq_hparams(args, kind);
  const std::string from = resolve_bits(args.get("from"), "from");
  const compress::BsqBitsFile header = compress::read_bsq_bits_header(from);
  if (args.given("act") && parse_act(args) != header.act_bits)
    throw UsageError{"--act " + args.get("act") + " differs from the bit form's " + std::to_string(header.act_bits) +
                     " bits; convert at the activation bits you train with"};
  const float alpha = finetune ? 0.0f : static_cast<float>(args.get_double("decay"));
  const int64_t prun_int = finetune ? 0 : args.get_int64("prun-int");
  const double thre = finetune ? 0.0 : args.get_double("thre");
  const int max_bits = finetune ? 0 : args.get_int("max-bits");
  if (!finetune) {
    if (!(alpha >= 0) || !std::isfinite(alpha)) throw UsageError{"--decay must be a finite non-negative number"};
    if (prun_int < 1) throw UsageError{"--prun-int must be at least 1 epoch"};
    if (!(thre >= 0 && thre <= 100)) throw UsageError{"--thre must be a percentage, 0..100"};
    if (max_bits < 1 || max_bits > 16) throw UsageError{"--max-bits must be 1..16"};
  }
  const bool upstream_clamp = args.on("upstream-clamp");
  hp.init_digest = train::file_digest(from);
  nlohmann::json hp_json = hp.to_json();
  hp_json["bsq"] = {{"finetune", finetune}, {"decay", alpha}, {"prun_int", prun_int}, {"thre", thre},
                    {"max_bits", max_bits}, {"act", header.act_bits}, {"upstream_clamp", upstream_clamp}};
  const std::string name = finetune ? "bsq_finetune" : "bsq_train";

  Session session(args, hp);
  const io::RunDir dir = io::RunDir::open(args.get("out"), name, train::TrainHparams::hash_of(hp_json), hp_json);
  std::fprintf(stderr, "bmc %s: run directory %s\n", kind.command, dir.path().c_str());
  if (dir.finished()) {
    std::fprintf(stderr, "bmc %s: already finished; reusing its results\n", kind.command);
    return session.report(dir, dir.read_summary());
  }
  auto model = session.make_model();
  compress::LoadedBsq loaded = compress::load_bsq_bits(from, *model, upstream_clamp);
  const train::EvalResult start_eval = train::evaluate(*model, session.test_loader(), nullptr, "start eval");
  print_changes("after loading", loaded.layers, compress::adjust_precisions(loaded.layers, 0.0));
  std::vector<compress::BsqLayer> layers =
      finetune ? compress::planes_to_latent(*model, loaded.layers) : std::move(loaded.layers);
  const auto acts = loaded.acts;
  train::TrainOptions options = options_from_flags(args, session.train_loader().steps_per_epoch());
  options.label = name;
  compress::BsqTrainConfig config;
  config.finetune = finetune;
  config.alpha = alpha;
  config.prun_int = std::max<int64_t>(1, prun_int);
  config.threshold = thre;
  config.max_bits = max_bits;
  config.act_bits = header.act_bits;
  config.upstream_clamp = upstream_clamp;
  compress::install_bsq_hooks(options, *model, layers, acts, config, session.train_loader().steps_per_epoch(),
                              [](const std::string& line) { std::fprintf(stderr, "bsq: %s\n", line.c_str()); });

  train::Trainer trainer(*model, session.train_loader(), session.test_loader(), hp, dir, options);
  const train::TrainResult result = trainer.run();
  const train::EvalResult final_eval = train::evaluate(*model, session.test_loader(), nullptr, "final eval");
  std::fprintf(stderr, "%s: percentage of ones per plane, MSB first:\n%s", kind.command,
               compress::bsq_plane_table(layers).c_str());
  nlohmann::json summary = session.summary(result, trainer.total_steps());
  const nlohmann::json report = summary_of(session, layers, acts, final_eval);
  summary["bsq"] = report["bsq"];
  summary["precisions"] = report["precisions"];
  // The test figures are the final model's (for bsq train: after the last re-quantization).
  summary["test_top1"] = final_eval.top1;
  summary["test_top5"] = final_eval.top5;
  summary["test_loss"] = final_eval.loss;
  summary["final"] = eval_json(final_eval);
  summary["start"] = eval_json(start_eval);
  summary["regularizer"] = compress::bsq_regularizer_value(layers);
  summary["files"] = {{"final_bits", dir.file("model_final_bits.safetensors")},
                      {"final_float", dir.file("model_final.safetensors")},
                      {"best_bits", dir.file("model_best_bits.safetensors")},
                      {"best_float", dir.file("model_best.safetensors")}};
  dir.write_summary(summary);
  return session.report(dir, summary);
}

int bsq_eval(const std::vector<std::string>& argv) {
  Args args("bsq eval", "Evaluate a BSQ bit form: accuracy, per-layer precision, ones per plane, compression.");
  declare_model_data_flags(args);
  args.option("from", "", "a bit-form file or a bsq convert / train / finetune run, required");
  if (!args.parse(argv)) return 0;
  const std::string from = resolve_bits(args.get("from"), "from");
  train::TrainHparams hp = hparams_from_flags(args);
  hp.init_digest = train::file_digest(from);
  Session session(args, hp);
  auto model = session.make_model();
  compress::LoadedBsq loaded = compress::load_bsq_bits(from, *model, false);
  const train::EvalResult ev = train::evaluate(*model, session.test_loader(), nullptr, "bsq eval");
  std::fprintf(stderr, "bsq eval: percentage of ones per plane, MSB first:\n%s",
               compress::bsq_plane_table(loaded.layers).c_str());
  print_changes("evaluated", loaded.layers, std::vector<compress::PrecisionChange>(loaded.layers.size()));
  for (const auto& [site, a] : loaded.acts)
    if (a->pact()) std::fprintf(stderr, "  PACT clip %s: %.4f\n", site.c_str(), a->clip());
  nlohmann::json hp_json = {{"bits", hp.init_digest}, {"model", hp.model}, {"dataset", hp.dataset},
                            {"holdout_per_class", hp.holdout_per_class}, {"eval_batch_size", hp.eval_batch_size}};
  const io::RunDir dir =
      io::RunDir::open(args.get("out"), "bsq_eval", train::TrainHparams::hash_of(hp_json), hp_json);
  const nlohmann::json summary = summary_of(session, loaded.layers, loaded.acts, ev);
  dir.write_summary(summary);
  return session.report(dir, summary);
}

}  // namespace

int run_bsq(const std::vector<std::string>& argv) {
  const char* usage = "usage: bmc bsq convert|train|finetune|eval [flags]   (bmc bsq <action> --help for the flags)";
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
    std::printf("%s\n", usage);
    return argv.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "convert") return bsq_convert(rest);
  if (argv[0] == "train") return bsq_train_or_finetune(rest, false);
  if (argv[0] == "finetune") return bsq_train_or_finetune(rest, true);
  if (argv[0] == "eval") return bsq_eval(rest);
  throw UsageError{std::string("bmc bsq: unknown action '") + argv[0] + "'; " + usage};
}

}  // namespace bmc::cli
