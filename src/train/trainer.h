// The training loop: data by global step (so any step can be resumed exactly), forward, softmax
// cross-entropy, backward, one fused masked-SGD step; metrics, evaluation and checkpoints at the
// requested intervals into a run directory. On the GPU a step makes no host round trip except at
// logging points, and replays one captured CUDA graph where the step allows it.
#pragma once

#include <cstdint>
#include <functional>

#include "datasets/batch_source.h"
#include "io/run_dir.h"
#include "nn/model.h"
#include "train/evaluate.h"
#include "train/hparams.h"

namespace bmc::train {

struct TrainOptions {
  int64_t log_every = 100;          // steps between metric rows / progress updates
  int64_t eval_every = 0;           // steps between test evaluations (0: every epoch)
  int64_t checkpoint_every = 0;     // steps between checkpoints (0: every epoch)
  int64_t stop_after_step = -1;     // testing hook: return after this many steps, as if killed
  // Profile the first steps of this invocation (core/profile.h): a table of every layer's forward
  // and backward, the loss, the optimizer step and data loading on stderr and in profile.txt.
  int64_t profile_steps = 0;
  std::string label = "train";      // progress line prefix
  // Called after the step that completes `save_at_step` (e.g. the rewinding point of a lottery run).
  int64_t save_at_step = -1;
  std::function<void(int64_t step)> on_save_at_step;
  // Hooks of methods that train more than the stored weights (BSQ): at the start of every step,
  // before its batch (so also at the first step of a resumed run); after every optimizer update;
  // before every checkpoint is written; after the last step, before model_final is written.
  std::function<void(int64_t step)> before_step;
  std::function<void()> after_update;
  std::function<void()> before_checkpoint;
  std::function<void()> on_finish;
  // Writes model_best / model_final in place of the plain state_dict.
  std::function<void(const std::string& path)> write_model;
  // Replay the training step as one captured CUDA graph where it can be (train/captured_step.h).
  bool capture_step = true;
};

struct TrainResult {
  bool finished = false;
  int64_t steps = 0;
  EvalResult test;
  double best_top1 = 0;  // best test top-1 over the run's evaluations (model_best.safetensors)
  double final_train_loss = 0;
  double seconds = 0;             // training time of this invocation
  double images_per_second = 0;   // training throughput of this invocation
  int64_t graph_replays = 0;      // steps that replayed the captured graph
};

class Trainer {
 public:
  Trainer(nn::Model& model, const data::BatchSource& train, const data::BatchSource& test, const TrainHparams& hp,
          const io::RunDir& dir, TrainOptions options);
  // Resumes from the newest checkpoint in the run directory when there is one.
  TrainResult run();
  int64_t total_steps() const { return total_steps_; }

 private:
  void write_model(const std::string& path);

  nn::Model& model_;
  const data::BatchSource& train_;
  const data::BatchSource& test_;
  TrainHparams hp_;
  io::RunDir dir_;
  TrainOptions options_;
  int64_t steps_per_epoch_;
  int64_t total_steps_;
};

}  // namespace bmc::train
