// `bmc qlth RUN_DIR`: quantizing lottery tickets. For every finished level of a lottery run, the
// ticket (level_<L>/model_final + mask) is quantized post-training at each weight bit width and
// evaluated: the QLTH table (test top-1 vs density per bit width, and the model size in bits, see
// compress/quant/model_size.h), an SVG plot and a run directory with the rows.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/quant_flags.h"
#include "compress/quant/ptq_pipeline.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/quant/model_size.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json_file.h"
#include "io/run_dir.h"
#include "io/plot.h"
#include "train/checkpoint.h"
#include "train/defaults.h"

namespace bmc::cli {

int run_qlth(const std::vector<std::string>& argv) {
  Args args("qlth", "Quantize every ticket of a lottery run at several weight bit widths (QLTH table and plot).");
  args.positionals("RUN_DIR", "a lottery run directory (runs/lottery_*)");
  declare_run_flags(args);
  declare_quant_flags(args);
  args.option("bits", "8,6,4,3,2", "weight bit widths");
  args.option("svg", "", "plot path (default: <run directory of this command>/qlth.svg); also writes the PNG\n"
                         "           beside it and the accuracy-vs-size plot as <name>_size.svg / .png");
  if (!args.parse(argv)) return 0;
  if (args.positional().size() != 1) throw UsageError{"bmc qlth: give exactly one lottery run directory"};
  const std::vector<int> bit_list = compress::parse_bit_list(args.get("bits"));
  for (const int b : bit_list) quant_config_from_flags(args, b);  // validate before any work

  const io::RunDir lottery(args.positional()[0]);
  BMC_CHECK(lottery.exists("hparams.json") && lottery.exists("summary.json"), lottery.path(),
            " is not a lottery run directory (hparams.json and summary.json expected)");
  const auto lhp = io::read_json_file(lottery.file("hparams.json"));
  const auto lsummary = lottery.read_summary();
  BMC_CHECK(lsummary.contains("levels") && !lsummary["levels"].empty(), lottery.path(), " has no finished level");
  train::TrainHparams hp = train::default_hparams(lhp.at("model").get<std::string>());
  hp.dataset = lhp.at("dataset").get<std::string>();
  hp.batch_size = lhp.at("batch_size").get<int>();
  hp.data_seed = lhp.at("data_seed").get<uint64_t>();
  hp.holdout_per_class = lhp.value("holdout_per_class", int64_t{0});
  // The model and input shape the tickets were trained with (a 1000-output classifier on a subset
  // of ImageNet, a crop size of its own).
  hp.num_classes = lhp.value("num_classes", 0);
  hp.crop_size = lhp.value("crop_size", 0);
  hp.resize_size = lhp.value("resize_size", 0);
  hp.eval_batch_size = lhp.value("eval_batch_size", 0);
  hp.skip_bad_images = lhp.value("skip_bad_images", false);

  const int64_t calib_batches = calib_batches_from_flags(args, hp.batch_size);
  Session session(args, hp);
  const auto calib = session.calibration_loader(hp.batch_size, hp.data_seed);
  nlohmann::json rows = nlohmann::json::array();
  // Accuracy against remaining weights, and against the model's size in bits.
  std::vector<io::PlotSeries> series(bit_list.size() + 1), by_size(bit_list.size() + 1);
  series[0].label = "float32";
  for (size_t i = 0; i < bit_list.size(); ++i) series[i + 1].label = "W" + std::to_string(bit_list[i]) + "A" + args.get("qe-bits-acts");
  for (size_t i = 0; i < series.size(); ++i) by_size[i].label = series[i].label;
  std::printf("%6s %9s %8s", "level", "density%", "fp32");
  for (const int b : bit_list) std::printf(" %8s", ("W" + std::to_string(b)).c_str());
  std::printf("   | size in kbit at each weight width\n");
  for (const auto& level : lsummary["levels"]) {
    const int l = level.at("level").get<int>();
    const double density = level.at("density").get<double>();
    const std::string ldir = lottery.file("level_" + std::to_string(l));
    const std::string mask = ldir + "/mask.safetensors";
    auto model = session.load_model(ldir + "/model_final.safetensors", std::filesystem::exists(mask) ? mask : "");
    const train::EvalResult fp = train::evaluate(*model, session.test_loader());
    nlohmann::json row = {{"level", l}, {"density", density}, {"fp_top1", fp.top1},
                          {"fp_bits", compress::float_model_bits(*model)}};
    series[0].points.push_back({100 * density, 100 * fp.top1});
    // The float ticket stored as the quantized ones are (kept weights and the mask), at 32 bits.
    by_size[0].points.push_back(
        {compress::quantized_model_size(*model, 32, 32, false).total() / 1000.0, 100 * fp.top1});
    std::printf("%6d %9.3f %8.2f", l, 100 * density, 100 * fp.top1);
    std::string sizes;
    for (size_t i = 0; i < bit_list.size(); ++i) {
      const compress::QuantConfig config = quant_config_from_flags(args, bit_list[i]);
      const compress::QuantEval q = compress::quantize_and_evaluate(*model, config, *calib, calib_batches, session.test_loader(), false);
      const compress::ModelSize size =
          compress::quantized_model_size(*model, config.bits_weights, config.bits_accum, config.per_channel,
                                         q.folded_norms);
      row["W" + std::to_string(bit_list[i])] = {{"top1", q.quantized.top1}, {"top1_argmax", q.top1_strict}, {"bits", size.total()},
                                               {"weight_bits", size.weight_bits}, {"mask_bits", size.mask_bits}};
      // Quantized logits tie far more often than float ones; the table and plot count a tie as
      // wrong unless the label comes first (strict argmax), so quantization is never flattered.
      series[i + 1].points.push_back({100 * density, 100 * q.top1_strict});
      by_size[i + 1].points.push_back({size.total() / 1000.0, 100 * q.top1_strict});
      std::printf(" %8.2f", 100 * q.top1_strict);
      sizes += " " + std::to_string(static_cast<long long>(std::llround(size.total() / 1000.0)));
      std::fflush(stdout);
    }
    std::printf("   |%s (fp32 %lld)\n", sizes.c_str(),
                static_cast<long long>(std::llround(compress::float_model_bits(*model) / 1000.0)));
    rows.push_back(row);
  }
  nlohmann::json hp_json = {{"lottery", std::filesystem::absolute(lottery.path()).lexically_normal().string()},
                            {"lottery_summary_levels", lsummary["levels"].size()},
                            {"bits", bit_list},
                            {"quant", quant_flags_json(quant_config_from_flags(args, bit_list[0]), calib_batches)}};
  hp_json["quant"].erase("bits_weights");
  const io::RunDir dir = io::RunDir::open(args.get("out"), "qlth", train::TrainHparams::hash_of(hp_json), hp_json);
  const std::string svg = args.given("svg") ? args.get("svg") : dir.file("qlth.svg");
  const std::string svg_size = (svg.ends_with(".svg") ? svg.substr(0, svg.size() - 4) : svg) + "_size.svg";
  io::PlotOptions options{"Quantized lottery tickets: test accuracy vs remaining weights",
                          "remaining weights (%, log scale)", "test top-1 (%)", true, true};
  const std::string png = io::write_plot_files(svg, series, options);
  io::PlotOptions size_options{"Quantized lottery tickets: test accuracy vs model size",
                               "model size (kbit, log scale)", "test top-1 (%)", true, false};
  const std::string png_size = io::write_plot_files(svg_size, by_size, size_options);
  dir.write_summary({{"finished", true}, {"model", hp.model}, {"dataset", hp.dataset}, {"rows", rows},
                     {"size_counting", "kept weights x bits + 1-bit mask per weight of pruned tensors + "
                                       "biases x 32 (a batch norm folded into the layer before it: one 32-bit "
                                       "bias per channel) + other parameters x 32 + 64 bits per weight scale"}});
  std::printf("accuracy: test top-1 %% (quantized columns: strict argmax, a tie with the label counts as wrong); size: kbit per bit width (see compress/quant/model_size.h)\n");
  std::printf("run directory: %s\nplots: %s %s %s %s\n", dir.path().c_str(), svg.c_str(), png.c_str(),
              svg_size.c_str(), png_size.c_str());
  return 0;
}

}  // namespace bmc::cli
