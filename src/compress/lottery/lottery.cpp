#include "compress/lottery/lottery.h"

#include <cstdio>
#include <filesystem>

#include "dist/communicator.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"

namespace bmc::lottery {
namespace {

constexpr const char* kInit = "model_init.safetensors";
constexpr const char* kRewind = "rewind.safetensors";
constexpr const char* kRewindState = "rewind_state.safetensors";

std::string level_name(int level) { return "level_" + std::to_string(level); }

}  // namespace

nlohmann::json to_json(const LevelRow& r) {
  return {{"level", r.level},         {"remaining", r.remaining}, {"prunable", r.prunable},
          {"density", r.density},     {"test_top1", r.test_top1}, {"best_top1", r.best_top1},
          {"test_loss", r.test_loss}, {"seconds", r.seconds}};
}

LevelRow level_row_from_json(const nlohmann::json& j) {
  LevelRow r;
  r.level = j.at("level").get<int>();
  r.remaining = j.at("remaining").get<int64_t>();
  r.prunable = j.at("prunable").get<int64_t>();
  r.density = j.at("density").get<double>();
  r.test_top1 = j.at("test_top1").get<double>();
  r.best_top1 = j.at("best_top1").get<double>();
  r.test_loss = j.at("test_loss").get<double>();
  r.seconds = j.value("seconds", 0.0);
  return r;
}

LotteryRunner::LotteryRunner(LotteryConfig config, ModelFactory factory, const data::BatchSource& train,
                             const data::BatchSource& test, io::RunDir root, train::TrainOptions options)
    : config_(std::move(config)),
      factory_(std::move(factory)),
      train_(train),
      test_(test),
      root_(std::move(root)),
      options_(std::move(options)) {}

std::vector<LevelRow> LotteryRunner::run() {
  std::vector<LevelRow> rows;
  for (int level = 0; level <= config_.levels; ++level) {
    rows.push_back(run_level(level));
    // A level stopped before its end (TrainOptions::stop_after_step) ends the run: the next level
    // needs its trained weights. Running again resumes it.
    const bool level_done = io::RunDir(root_.file(level_name(level))).finished();
    nlohmann::json table = nlohmann::json::array();
    for (const LevelRow& r : rows) table.push_back(to_json(r));
    root_.write_summary({{"finished", level_done && level == config_.levels}, {"levels", table}});
    if (!level_done) break;
  }
  return rows;
}

LevelRow LotteryRunner::run_level(int level) {
  const io::RunDir dir(root_.file(level_name(level)));
  if (io::writes_files()) std::filesystem::create_directories(dir.path());
  if (dir.finished()) return level_row_from_json(dir.read_summary().at("row"));

  auto model = factory_();
  const int64_t rewind_step = config_.rewinding.steps(train_.steps_per_epoch());
  train::TrainOptions options = options_;
  options.label = "level " + std::to_string(level);
  if (level == 0) {
    if (!root_.exists(kInit)) train::save_weights(root_.file(kInit), *model);
    if (rewind_step > 0) {
      options.save_at_step = rewind_step;
      options.on_save_at_step = [this, &model](int64_t) {
        train::save_weights(root_.file(kRewind), *model);
        io::save_safetensors(root_.file(kRewindState), {{"momentum", &model->momentum()}});
      };
    }
  } else {
    prepare_start(*model, dir, level, rewind_step);
  }
  train::Trainer trainer(*model, train_, test_, config_.train, dir, options);
  const train::TrainResult result = trainer.run();
  const LevelRow row = row_for(*model, level, result);
  dir.write_summary({{"finished", result.finished}, {"row", to_json(row)}});
  std::fprintf(stderr, "level %d: density %.4f (%lld of %lld weights), test top-1 %.2f%%, best %.2f%%\n", level,
               row.density, static_cast<long long>(row.remaining), static_cast<long long>(row.prunable),
               100 * row.test_top1, 100 * row.best_top1);
  // The ranks of a data-parallel run read what rank 0 wrote for this level (its summary, mask,
  // rewinding weights) only after it is written.
  dist::world().barrier();
  return row;
}

// Level L > 0: the mask from pruning level L-1's trained weights, then the starting state
// (initial or rewound weights, masked) written as the level's first checkpoint so the trainer
// starts from it. A level that already has a checkpoint resumes from it: the checkpoint's
// training state holds the masks (train/checkpoint.h).
void LotteryRunner::prepare_start(nn::Model& model, const io::RunDir& dir, int level, int64_t rewind_step) {
  if (train::latest_checkpoint_step(dir)) return;
  const io::RunDir previous(root_.file(level_name(level - 1)));
  if (!dir.exists("mask.safetensors")) {
    train::load_weights(previous.file("model_final.safetensors"), model);
    if (previous.exists("mask.safetensors")) compress::load_mask(previous.file("mask.safetensors"), model);
    compress::prune_by_magnitude(model, config_.pruning);
    compress::save_mask(dir.file("mask.safetensors"), model, config_.pruning.ignore);
  }
  dist::world().barrier();  // every rank reads the mask rank 0 wrote
  model.reset_masks();
  model.reset_momentum();
  if (rewind_step == 0) {
    train::load_weights(root_.file(kInit), model);
  } else {
    BMC_CHECK(root_.exists(kRewind), "no weights saved at the rewinding step in ", root_.path());
    train::load_weights(root_.file(kRewind), model);
    if (config_.rewind_optimizer)
      model.momentum().copy_from(io::load_safetensors(root_.file(kRewindState)).at("momentum"));
  }
  compress::load_mask(dir.file("mask.safetensors"), model);  // zeroes masked weights and momentum
  train::save_checkpoint(dir, model, rewind_step);
}

LevelRow LotteryRunner::row_for(nn::Model& model, int level, const train::TrainResult& result) const {
  LevelRow row;
  row.level = level;
  for (const compress::LayerDensity& d : compress::layer_densities(model, config_.pruning.ignore)) {
    row.remaining += d.remaining;
    row.prunable += d.total;
  }
  row.density = row.prunable > 0 ? static_cast<double>(row.remaining) / row.prunable : 1.0;
  row.test_top1 = result.test.top1;
  row.test_loss = result.test.loss;
  row.best_top1 = std::max(result.best_top1, result.test.top1);
  row.seconds = result.seconds;
  return row;
}

}  // namespace bmc::lottery
