// `bmc latticeq`: LatticeQ post-training quantization (../shared/docs/algorithms/latticeq.md;
// bmc's record: docs/latticeq.md). Every convolution and linear layer gets lattice bases found by
// the random search (weights only, no data), saved per layer as it finishes so a rerun of the
// same command resumes; then, with --quant-a, one augmented batch of the training split
// calibrates the activation ranges; the model is evaluated on the test split and written as
// integer coordinates + bases + scales and as a float checkpoint that bmc eval and PyTorch load.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "cli/train_flags.h"
#include "compress/latticeq/block_reconstruction.h"
#include "compress/latticeq/lattice_weight.h"
#include "compress/latticeq/latticeq_model.h"
#include "io/safetensors.h"
#include "io/state_dict.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"

namespace bmc::cli {
namespace {

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kLatticeFile = "lattice.safetensors";

compress::LatticeqOptions options_from(const Args& args) {
  compress::LatticeqOptions o;
  o.bits_w = args.get_int("bits-w");
  o.quantize_basis = args.on("quant-basis");
  o.bits_b = args.get_int("bits-b");
  o.per_layer = args.on("per-layer");
  o.agreg = args.get_int("agreg");
  o.steps = args.get_int("steps");
  o.restarts = args.get_int("nb-restarts");
  o.bias_corr = args.on("bias-corr");
  o.seed = static_cast<uint64_t>(args.get_int64("seed"));
  o.quant_a = args.on("quant-a");
  o.bits_a = args.get_int("bits-a");
  const std::string type = args.get("quant-a-type");
  if (type != "per_layer" && type != "per_channel")
    throw UsageError{"--quant-a-type expects per_layer or per_channel, got '" + type + "'"};
  o.per_channel_a = type == "per_channel";
  if (o.bits_w < 2 || o.bits_w > 8) throw UsageError{"--bits-w must be 2..8"};
  if (o.bits_b < 2 || o.bits_b > 16) throw UsageError{"--bits-b must be 2..16"};
  if (o.bits_a < 1 || o.bits_a > 8) throw UsageError{"--bits-a must be 1..8"};
  if (o.agreg < 1 || o.agreg > kMaxLatticeDim) throw UsageError{"--agreg must be 1..4"};
  if (o.steps < 1 || o.restarts < 1) throw UsageError{"--steps and --nb-restarts must be at least 1"};
  return o;
}

nlohmann::json options_json(const compress::LatticeqOptions& o, int calib_size, bool bn_train) {
  return {{"bits_w", o.bits_w},   {"quant_basis", o.quantize_basis}, {"bits_b", o.bits_b},
          {"per_layer", o.per_layer}, {"agreg", o.agreg},            {"steps", o.steps},
          {"nb_restarts", o.restarts}, {"bias_corr", o.bias_corr},    {"seed", o.seed},
          {"quant_a", o.quant_a},     {"bits_a", o.bits_a},          {"per_channel_a", o.per_channel_a},
          {"calib_size", calib_size}, {"calib_bn_train", bn_train}};
}

nlohmann::json reconstruction_json(const compress::ReconstructionOptions& r) {
  return {{"epochs", r.epochs}, {"cali_batches", r.slices}, {"lr", r.lr}};
}

nlohmann::json eval_json(const train::EvalResult& r) {
  return {{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}, {"examples", r.examples}};
}

// The bases of one layer: from its file when an earlier run of this command finished it, else
// searched now and saved.
std::vector<float> layer_bases(const io::RunDir& dir, const compress::LatticeLayerPlan& plan, size_t index,
                               size_t layers, uint64_t seed, nlohmann::json& row) {
  namespace fs = std::filesystem;
  fs::create_directories(dir.file("search"));
  const std::string path = dir.file("search/" + plan.name + ".safetensors");
  const int64_t entries = plan.shape.bases() * plan.shape.n * plan.shape.n;
  if (fs::exists(path)) {
    io::SafeTensors f = io::load_safetensors(path);
    BMC_CHECK(f.contains("bases") && f.at("bases").numel() == entries, path, ": not the search of ", plan.name,
              " (remove it to search again)");
    row = nlohmann::json::parse(f.metadata.at("report"));
    std::fprintf(stderr, "bmc latticeq: [%zu/%zu] %s: search done by an earlier run\n", index + 1, layers,
                 plan.name.c_str());
    return f.at("bases").to_vector<float>();
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor wn = compress::normalized_weights(plan);
  const size_t stages = plan.schedule.temperatures.size();
  const compress::LatticeSearchResult r = compress::lattice_search(
      wn, plan.shape, plan.schedule, seed, plan.stream, [&](const compress::LatticeSearchProgress& p) {
        std::fprintf(stderr, "\rbmc latticeq: [%zu/%zu] %s: restart %d/%d stage %d/%zu loss %.6g   ", index + 1, layers,
                     plan.name.c_str(), p.restart + 1, plan.schedule.restarts, p.stage + 1, stages, p.loss);
      });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  row = compress::plan_json(plan);
  row["loss"] = r.loss;
  row["uniform_loss"] = r.uniform_loss;
  row["loss_vs_uniform"] = r.uniform_loss > 0 ? r.loss / r.uniform_loss : 0.0;
  row["proposals"] = r.proposals;
  row["seconds"] = seconds;
  std::fprintf(stderr, "\rbmc latticeq: [%zu/%zu] %s: n %d, %d bits, %lld bases: cubic error %.4g (uniform grid %.4g, x%.3f), %.1f s\n",
               index + 1, layers, plan.name.c_str(), plan.shape.n, plan.shape.bits,
               static_cast<long long>(plan.shape.bases()), r.loss, r.uniform_loss,
               r.uniform_loss > 0 ? r.loss / r.uniform_loss : 0.0, seconds);
  const Tensor bases = Tensor::from_vector(r.bases, Shape{plan.shape.bases(), plan.shape.n, plan.shape.n});
  const Tensor losses = Tensor::from_vector(r.losses, Shape{static_cast<int64_t>(r.losses.size())});
  io::save_safetensors(path, {{"bases", &bases}, {"losses", &losses}}, {{"report", row.dump()}});
  return r.bases;
}

}  // namespace

int run_latticeq(const std::vector<std::string>& argv) {
  Args args("latticeq", "LatticeQ: lattice weight quantization with searched bases, evaluated on the test split.");
  declare_model_data_flags(args);
  args.option("checkpoint", "", "model weights (safetensors state_dict or .pth), required");
  args.option("bits-w", "4", "coordinate bits of the weights (the first and last layers: 8)");
  args.flag("quant-basis", "quantize every basis entry to --bits-b bits");
  args.option("bits-b", "8", "basis bits with --quant-basis");
  args.flag("per-layer", "one basis per layer instead of one per output channel");
  args.option("agreg", "2", "lattice dimension of 1x1 convolutions and linear layers");
  args.option("steps", "80", "proposals per temperature stage (upstream's paper: 800 to 1500)");
  args.option("nb-restarts", "5", "restarts of the search");
  args.flag("bias-corr", "weight-only bias correction per output channel (in the search loss below 4 bits)");
  args.option("seed", "1", "the search's Philox seed");
  args.flag("quant-a", "quantize layer inputs (calibrated on one batch)");
  args.option("bits-a", "8", "activation bits with --quant-a");
  args.option("quant-a-type", "per_layer", "per_layer (max) or per_channel (quantiles)");
  args.option("calib-size", "512", "images in the calibration batch (the training split, augmented)");
  args.option("data-seed", "0", "which training images calibrate");
  args.flag("calib-bn-train", "calibrate with batch-norm in train mode and one running-statistics update, as upstream");
  args.flag("block-reconstruction", "then learn each unit's weights against the float model's unit outputs");
  args.option("epochs", "2000", "block reconstruction epochs per unit");
  args.option("cali-batches", "4", "slices of the reconstruction batch (one Adam step each)");
  args.option("lr", "2e-6", "block reconstruction learning rate (cosine to a tenth)");
  if (!args.parse(argv)) return 0;
  const compress::LatticeqOptions options = options_from(args);
  const int calib_size = args.get_int("calib-size");
  if (calib_size < 1) throw UsageError{"--calib-size must be at least 1"};
  const bool bn_train = args.on("calib-bn-train");
  const bool reconstruct = args.on("block-reconstruction");
  compress::ReconstructionOptions rec;
  rec.epochs = args.get_int("epochs");
  rec.slices = args.get_int("cali-batches");
  rec.lr = static_cast<float>(args.get_double("lr"));
  if (rec.epochs < 1 || rec.slices < 1) throw UsageError{"--epochs and --cali-batches must be at least 1"};
  if (!(rec.lr > 0) || !std::isfinite(rec.lr)) throw UsageError{"--lr must be positive"};
  train::TrainHparams hp = checkpoint_hparams_from_flags(args, "latticeq");

  Session session(args, hp);
  auto model = session.load_model(args.get("checkpoint"), "");
  std::vector<compress::LatticeLayerPlan> plans = compress::plan_latticeq(*model, options);
  nlohmann::json hp_json = {{"checkpoint", hp.init_digest}, {"model", hp.model}, {"dataset", hp.dataset},
                            {"holdout_per_class", hp.holdout_per_class}, {"data_seed", hp.data_seed},
                            {"latticeq", options_json(options, calib_size, bn_train)}};
  if (reconstruct) hp_json["block_reconstruction"] = reconstruction_json(rec);
  const io::RunDir dir = io::RunDir::open(args.get("out"), "latticeq", train::TrainHparams::hash_of(hp_json), hp_json);
  const train::EvalResult fp = train::evaluate(*model, session.test_loader());
  std::fprintf(stderr, "bmc latticeq: full precision top-1 %.2f%%\n", 100 * fp.top1);

  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json layers = nlohmann::json::array();
  double search_seconds = 0;
  std::vector<std::vector<float>> bases(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    nlohmann::json row;
    bases[i] = layer_bases(dir, plans[i], i, plans.size(), options.seed, row);
    search_seconds += row.value("seconds", 0.0);
    layers.push_back(row);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < plans.size(); ++i) compress::attach_lattice_weight(plans[i], bases[i]);

  nlohmann::json alphas = nlohmann::json::object();
  if (options.quant_a) {
    const auto acts = compress::attach_lattice_activations(*model, options);
    const auto loader = session.augmented_calibration_loader(calib_size, hp.data_seed);
    Tensor x, y;
    loader->batch(0, x, y);
    model->set_training(bn_train);
    model->forward(x);
    model->set_training(false);
    for (const auto& [name, q] : acts) alphas[name] = q->alpha();
    std::fprintf(stderr, "bmc latticeq: activation ranges of %zu inputs calibrated on %lld images\n", acts.size(),
                 static_cast<long long>(x.dim(0)));
  }
  model->set_training(false);
  train::EvalResult q = train::evaluate(*model, session.test_loader());
  nlohmann::json reconstruction = nullptr;
  if (reconstruct) {
    std::fprintf(stderr, "bmc latticeq: before block reconstruction: top-1 %.2f%%\n", 100 * q.top1);
    reconstruction = {{"options", reconstruction_json(rec)}, {"before", eval_json(q)}};
    auto fp_model = session.load_model(args.get("checkpoint"), "");
    const auto loader = session.augmented_calibration_loader(calib_size, hp.data_seed);
    Tensor x, y;
    loader->batch(loader->steps_per_epoch() > 1 ? 1 : 0, x, y);
    const auto units = compress::reconstruct_blocks(
        *model, *fp_model, x, rec, [&](const compress::UnitReport& u, int epoch) {
          std::fprintf(stderr, "\rbmc latticeq: reconstruct %s: epoch %d/%d mse %.6g   ", u.name.c_str(), epoch + 1,
                       rec.epochs, u.mse_last);
        });
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& u : units) {
      std::fprintf(stderr, "\rbmc latticeq: reconstructed %s (%lld weights): mse %.6g -> %.6g, %.1f s\n", u.name.c_str(),
                   static_cast<long long>(u.parameters), u.mse_first, u.mse_last, u.seconds);
      rows.push_back({{"unit", u.name}, {"parameters", u.parameters}, {"mse_first_epoch", u.mse_first},
                      {"mse_last_epoch", u.mse_last}, {"seconds", u.seconds}});
    }
    reconstruction["units"] = rows;
    q = train::evaluate(*model, session.test_loader());
  }

  // Integer form: per layer its coordinates, bases and layer scale.
  std::vector<Tensor> held;
  std::vector<std::pair<std::string, const Tensor*>> lattice_tensors;
  held.reserve(plans.size() * 3);
  for (const compress::LatticeLayerPlan& p : plans) {
    const auto& link = dynamic_cast<const compress::LatticeWeight&>(*p.weight->parametrizations.links().back());
    held.push_back(link.coordinates(p.weight->value));
    lattice_tensors.emplace_back(p.name + ".coords", &held.back());
    held.push_back(link.bases().to(Device::cpu()));
    lattice_tensors.emplace_back(p.name + ".bases", &held.back());
    held.push_back(Tensor::full(Shape{1}, link.layer_scale(p.weight->value)));
    lattice_tensors.emplace_back(p.name + ".scale", &held.back());
  }
  nlohmann::json meta_layers = nlohmann::json::array();
  for (const auto& p : plans) meta_layers.push_back(compress::plan_json(p));
  io::save_safetensors(dir.file(kLatticeFile), lattice_tensors,
                       {{"latticeq_layers", meta_layers.dump()}, {"activation_ranges", alphas.dump()}});
  // Float form: the weights the layers compute with.
  for (const compress::LatticeLayerPlan& p : plans) {
    Tensor effective = p.weight->parametrizations.forward(p.weight->value).clone();
    p.weight->parametrizations.clear();
    p.weight->value.copy_from(effective);
  }
  io::save_safetensors(dir.file(kModelFile), io::state_dict(*model));

  const compress::LatticeqSize size = compress::latticeq_size(*model, plans);
  nlohmann::json summary = {{"finished", true},
                            {"model", hp.model},
                            {"dataset", hp.dataset},
                            {"eval_split", session.splits().test_split},
                            {"fp", eval_json(fp)},
                            {"latticeq", eval_json(q)},
                            {"test_loss", q.loss},
                            {"test_top1", q.top1},
                            {"test_top5", q.top5},
                            {"options", options_json(options, calib_size, bn_train)},
                            {"search_seconds", search_seconds},
                            {"search_wall_seconds_this_run", wall},
                            {"layers", layers},
                            {"activation_ranges", alphas},
                            {"block_reconstruction", reconstruction},
                            {"size_bits",
                             {{"total", size.total()},
                              {"coordinates", size.coordinate_bits},
                              {"bases", size.basis_bits},
                              {"layer_scales", size.scale_bits},
                              {"float_parameters", size.float_bits},
                              {"fp32_model", size.fp32_bits},
                              {"compression", size.total() > 0 ? static_cast<double>(size.fp32_bits) / size.total() : 0.0}}}};
  dir.write_summary(summary);
  std::fprintf(stderr, "bmc latticeq: W%d%s%s: top-1 %.2f%% top-5 %.2f%% (full precision %.2f%%), %lld bits (%.2fx smaller than fp32), search %.1f s\n",
               options.bits_w, options.quant_a ? ("A" + std::to_string(options.bits_a)).c_str() : "",
               options.quantize_basis ? ("B" + std::to_string(options.bits_b)).c_str() : "", 100 * q.top1,
               100 * q.top5, 100 * fp.top1, static_cast<long long>(size.total()),
               size.total() > 0 ? static_cast<double>(size.fp32_bits) / size.total() : 0.0, search_seconds);
  return session.report(dir, summary);
}

}  // namespace bmc::cli
