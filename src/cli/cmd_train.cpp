// `bmc train`: train a model on real data on the GPU or the CPU, into a run directory keyed by its
// hyper-parameters; re-running the same command reuses finished work or resumes unfinished work.
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/prune/model_pruning.h"
#include "compress/quant/ptq_pipeline.h"
#include "compress/quant/qat.h"
#include "compress/quant/quant_config.h"
#include "train/checkpoint.h"

namespace bmc::cli {

int run_train(const std::vector<std::string>& argv) {
  Args args("train", "Train a model (OpenLTH defaults per model; every hyper-parameter overridable).");
  declare_train_flags(args);
  args.option("mask", "", "train with this mask (safetensors from bmc prune / lottery); masked weights stay 0");
  args.option("init-from", "", "start from these weights (safetensors state_dict) instead of a fresh init");
  args.option("qat-bits-wts", "", "quantization-aware training: weight bits (2..16; enables QAT)");
  args.option("qat-bits-acts", "8", "QAT: activation bits (after every ReLU)");
  args.option("qat-mode", "sym", "QAT: sym, asym_u or asym_s");
  args.flag("qat-per-channel", "QAT: weights quantized per output channel");
  if (!args.parse(argv)) return 0;
  train::TrainHparams hp = hparams_from_flags(args);
  std::optional<compress::QatConfig> qat;
  if (args.given("qat-bits-wts")) {
    qat.emplace();
    qat->bits_weights = args.get_int("qat-bits-wts");
    qat->bits_acts = args.get_int("qat-bits-acts");
    qat->mode = compress::parse_quant_mode(args.get("qat-mode"));
    qat->per_channel = args.on("qat-per-channel");
    compress::check_bits("--qat-bits-wts", qat->bits_weights);
    compress::check_bits("--qat-bits-acts", qat->bits_acts);
    hp.qat = qat->describe();
  } else {
    BMC_CHECK(!args.given("qat-bits-acts") && !args.given("qat-mode") && !args.on("qat-per-channel"),
              "--qat-bits-acts, --qat-mode and --qat-per-channel need --qat-bits-wts");
  }
  if (args.given("mask")) hp.mask_digest = train::file_digest(args.get("mask"));
  if (args.given("init-from")) hp.init_digest = train::file_digest(args.get("init-from"));

  Session session(args, hp);
  const io::RunDir dir = io::RunDir::open(args.get("out"), "train", train::run_id(hp.to_json()), hp.to_json());
  std::fprintf(stderr, "bmc train: run directory %s\n", dir.path().c_str());
  if (dir.finished()) {
    std::fprintf(stderr, "bmc train: already finished; reusing its results\n");
    return session.report(dir, dir.read_summary());
  }
  auto model = session.make_model();
  if (args.given("init-from")) train::load_weights(args.get("init-from"), *model);
  if (args.given("mask")) session.apply_mask(*model, args.get("mask"));
  if (qat) compress::attach_qat(*model, *qat);

  train::Trainer trainer(*model, session.train_loader(), session.test_loader(), hp, dir,
                         options_from_flags(args, session.train_loader().steps_per_epoch()));
  const train::TrainResult result = trainer.run();
  nlohmann::json summary = session.summary(result, trainer.total_steps());
  if (args.given("mask")) {
    // A layer the mask file leaves out stays dense (OpenLTH's masks omit ignored layers): the
    // density counts every prunable weight; mask_density is over the layers the file lists.
    int64_t remaining = 0, total = 0;
    for (const compress::LayerDensity& d : compress::layer_densities(*model, {})) {
      remaining += d.remaining;
      total += d.total;
    }
    summary["density"] = total > 0 ? static_cast<double>(remaining) / static_cast<double>(total) : 1.0;
    summary["mask_density"] = compress::mask_file_density(args.get("mask"));
    summary["dense_layers"] = compress::layers_without_mask(args.get("mask"), *model);
  }
  // Quantized models tie more often: the strict argmax, as bmc quantize reports it.
  if (qat) summary["test_top1_argmax"] = compress::strict_top1(*model, session.test_loader());
  dir.write_summary(summary);
  return session.report(dir, summary);
}

}  // namespace bmc::cli
