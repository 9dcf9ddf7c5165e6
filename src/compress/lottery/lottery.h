// Iterative magnitude pruning (Frankle & Carbin; OpenLTH's lottery runner). Level 0 trains the
// dense network from its initialisation. Level L > 0 prunes `fraction` of the remaining weights of
// the trained level L-1 network, resets the survivors to the initialisation (or to the state saved
// at the rewinding step), and retrains with the full schedule under the mask. Every level is its
// own resumable run directory: <root>/level_<L>/ with mask, checkpoints, metrics and summary.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "compress/prune/model_pruning.h"
#include "datasets/batch_source.h"
#include "io/run_dir.h"
#include "nn/model.h"
#include "train/hparams.h"
#include "train/trainer.h"

namespace bmc::lottery {

struct LotteryConfig {
  train::TrainHparams train;
  compress::PruningOptions pruning;
  train::Duration rewinding{0, false};  // 0: reset to initialisation
  // At a rewinding step k > 0, also restore the SGD momentum saved at k (bmc's default).
  // OpenLTH starts a fresh optimizer at k instead (set false to reproduce it exactly).
  bool rewind_optimizer = true;
  int levels = 15;
};

struct LevelRow {
  int level = 0;
  int64_t remaining = 0;  // unpruned weights in the pruned layers
  int64_t prunable = 0;   // weights in the pruned layers
  double density = 1.0;
  double test_top1 = 0, best_top1 = 0, test_loss = 0;
  double seconds = 0;
};

// A freshly initialised model (the same weights on every call).
using ModelFactory = std::function<std::unique_ptr<nn::Model>()>;

class LotteryRunner {
 public:
  LotteryRunner(LotteryConfig config, ModelFactory factory, const data::BatchSource& train,
                const data::BatchSource& test, io::RunDir root, train::TrainOptions options);
  std::vector<LevelRow> run();

 private:
  LevelRow run_level(int level);
  void prepare_start(nn::Model& model, const io::RunDir& dir, int level, int64_t rewind_step);
  LevelRow row_for(nn::Model& model, int level, const train::TrainResult& result) const;

  LotteryConfig config_;
  ModelFactory factory_;
  const data::BatchSource& train_;
  const data::BatchSource& test_;
  io::RunDir root_;
  train::TrainOptions options_;
};

nlohmann::json to_json(const LevelRow& row);
LevelRow level_row_from_json(const nlohmann::json& j);

}  // namespace bmc::lottery
