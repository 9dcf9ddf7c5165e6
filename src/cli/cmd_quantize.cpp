// `bmc quantize`: range-linear post-training quantization (Distiller semantics) of a checkpoint,
// optionally masked: calibrate on training batches, evaluate the quantized model on the test
// split, and write a run directory with the accuracy, the statistics and every scale.
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/quant_flags.h"
#include "compress/quant/ptq_pipeline.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "io/atomic_file.h"
#include "io/run_dir.h"
#include "train/checkpoint.h"

namespace bmc::cli {

int run_quantize(const std::vector<std::string>& argv) {
  Args args("quantize", "Post-training range-linear quantization of a checkpoint, evaluated on the test split.");
  declare_model_data_flags(args);
  args.option("data-seed", "0", "order of the calibration batches");
  declare_quant_flags(args);
  args.option("checkpoint", "", "model weights (safetensors state_dict), required");
  args.option("mask", "", "apply this mask first (pruned weights stay exactly zero)");
  args.option("qe-bits-wts", "8", "weight bits (Distiller --qebw)");
  args.alias("qebw", "qe-bits-wts");
  args.flag("integer-check", "also run the integer-only CPU path (8-bit sym) and compare its argmax");
  if (!args.parse(argv)) return 0;
  const compress::QuantConfig config = quant_config_from_flags(args, args.get_int("qe-bits-wts"));
  train::TrainHparams hp = checkpoint_hparams_from_flags(args, "quantize");
  const int64_t calib_batches = calib_batches_from_flags(args, hp.batch_size);

  Session session(args, hp);
  auto model = session.load_model(args.get("checkpoint"), args.get("mask"));
  const train::EvalResult fp = train::evaluate(*model, session.test_loader());
  const auto calib = session.calibration_loader(hp.batch_size, hp.data_seed);
  const compress::QuantEval q = compress::quantize_and_evaluate(*model, config, *calib, calib_batches, session.test_loader(),
                                            args.on("integer-check"));

  nlohmann::json hp_json = {{"checkpoint", hp.init_digest}, {"mask", hp.mask_digest}, {"model", hp.model},
                            {"dataset", hp.dataset}, {"data_seed", hp.data_seed}, {"batch_size", hp.batch_size},
                            {"quant", quant_flags_json(config, calib_batches)}};
  const io::RunDir dir = io::RunDir::open(args.get("out"), "quantize", train::TrainHparams::hash_of(hp_json), hp_json);
  io::write_file_atomic(dir.file("quant_params.json"), q.params.dump(1) + "\n");
  nlohmann::json summary = {{"finished", true},
                            {"model", hp.model},
                            {"dataset", hp.dataset},
                            {"eval_split", session.splits().test_split},
                            {"examples", q.quantized.examples},
                            {"fp_top1", fp.top1},
                            {"test_loss", q.quantized.loss},
                            {"test_top1", q.quantized.top1},
                            {"test_top5", q.quantized.top5},
                            {"test_top1_argmax", q.top1_strict},
                            {"quant", quant_flags_json(config, calib_batches)}};
  if (q.integer_agree >= 0) {
    summary["integer_argmax_agreement"] = static_cast<double>(q.integer_agree) / q.quantized.examples;
    summary["integer_top1"] = static_cast<double>(q.integer_correct) / q.quantized.examples;
    summary["integer_disagreements"] = q.disagreements;
  }
  dir.write_summary(summary);
  std::fprintf(stderr, "bmc quantize: W%dA%d %s%s clip %s: top-1 %.2f%% (argmax, ties to the first class: %.2f%%; full precision %.2f%%)\n",
               config.bits_weights, config.bits_acts, compress::quant_mode_name(config.mode),
               config.per_channel ? " per-channel" : "", compress::clip_name(config).c_str(), 100 * q.quantized.top1,
               100 * q.top1_strict, 100 * fp.top1);
  if (q.integer_agree >= 0)
    std::fprintf(stderr, "bmc quantize: integer path: argmax agrees on %lld/%lld, top-1 %.2f%%\n",
                 static_cast<long long>(q.integer_agree), static_cast<long long>(q.quantized.examples),
                 100.0 * q.integer_correct / q.quantized.examples);
  return session.report(dir, summary);
}

}  // namespace bmc::cli
