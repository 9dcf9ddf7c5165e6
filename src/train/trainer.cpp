#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/profile.h"
#include "dist/communicator.h"
#include "io/atomic_file.h"
#include "nn/parametrization.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "optim/lr_schedule.h"
#include "optim/sgd.h"
#include "train/captured_step.h"
#include "train/checkpoint.h"
#include "train/diverged.h"
#include "train/progress.h"

namespace bmc::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The best test top-1 recorded so far in metrics.jsonl (after a resume), or -1.
double best_recorded_top1(const io::RunDir& dir) {
  if (!dir.exists("metrics.jsonl")) return -1;
  double best = -1;
  std::istringstream in(io::read_file(dir.file("metrics.jsonl")));
  std::string line;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line, nullptr, false);
    if (!row.is_discarded() && row.contains("test_top1")) best = std::max(best, row["test_top1"].get<double>());
  }
  return best;
}

bool all_finite(const Tensor& t) {
  for (const float v : t.to_vector<float>())
    if (!std::isfinite(v)) return false;
  return true;
}

[[noreturn]] void diverged(const io::RunDir& dir, int64_t step, const std::string& what) {
  const auto last = latest_checkpoint_step(dir);
  throw DivergedError("training diverged at step " + std::to_string(step) + ": " + what + "; " +
                          (last ? "the last good checkpoint is at step " + std::to_string(*last) + " in " + dir.path()
                                : "no checkpoint was written") +
                          " (lower --lr?)",
                      step);
}

// Data-parallel ranks: every rank's copy of the buffers (batch-norm running statistics, which
// each rank updates from its own shard) becomes rank 0's before it is evaluated or saved, as
// PyTorch DDP broadcasts them from rank 0.
void broadcast_buffers(nn::Model& model) {
  if (!dist::distributed() || dist::sync_batch_norm()) return;
  for (nn::Buffer* b : model.buffers()) dist::world().broadcast(b->value, 0);
}

// The gradients of every rank summed into each: the arena's and those of trainable state.
void all_reduce_gradients(nn::Model& model) {
  dist::Communicator& comm = dist::world();
  comm.all_reduce_sum(model.grads());
  model.visit_state([&](const std::string&, nn::StateTensor& s) {
    if (s.trainable) comm.all_reduce_sum(s.grad);
  });
}

// The profile of the first steps of this invocation, on stderr and in the run directory.
void report_profile(const io::RunDir& dir, const std::vector<profile::Row>& rows, int64_t steps, Progress& progress) {
  const std::string table = profile::table(rows, steps);
  progress.message("profile of " + std::to_string(steps) + " steps (self time of each range):\n" + table);
  io::write_file_atomic(dir.file("profile.txt"), table);
}

// Why the training step cannot be one captured graph, or "" when it can. The graph replays device
// work only, so every step must be the same work on the same tensors: no host decisions between
// its kernels (hooks, the ranks' collectives, profiling ranges), and no transform whose forward
// feeds the device from the host.
std::string capture_obstacle(nn::Model& model, const TrainOptions& options, bool data_parallel) {
  if (!options.capture_step) return "turned off";
  if (!StepGraph::available(model.device())) return "no graphs on " + model.device().str();
  if (data_parallel) return "data-parallel ranks";
  if (options.profile_steps > 0) return "profiling";
  if (options.before_step || options.after_update) return "the method runs host work every step";
  std::string obstacle;
  model.visit_state_owners([&](const std::string& name, nn::StateOwner& owner) {
    const auto* p = dynamic_cast<const nn::Parametrization*>(&owner);
    if (obstacle.empty() && !(p && p->passthrough())) obstacle = name + " (" + owner.describe() + ")";
  });
  return obstacle;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", 100 * fraction);
  return buf;
}

}  // namespace

Trainer::Trainer(nn::Model& model, const data::BatchSource& train, const data::BatchSource& test,
                 const TrainHparams& hp, const io::RunDir& dir, TrainOptions options)
    : model_(model),
      train_(train),
      test_(test),
      hp_(hp),
      dir_(dir),
      options_(std::move(options)),
      steps_per_epoch_(train.steps_per_epoch()),
      total_steps_(hp.training_length.steps(train.steps_per_epoch())) {
  BMC_CHECK(total_steps_ > 0, "training length ", hp.training_length.str(), " is zero steps");
  if (options_.eval_every <= 0) options_.eval_every = steps_per_epoch_;
  if (options_.checkpoint_every <= 0) options_.checkpoint_every = steps_per_epoch_;
  if (options_.log_every <= 0) options_.log_every = 100;
}

void Trainer::write_model(const std::string& path) {
  if (options_.write_model) return options_.write_model(path);
  save_weights(path, model_);
}

TrainResult Trainer::run() {
  optim::LrSchedule schedule;
  schedule.base_lr = hp_.lr;
  schedule.gamma = hp_.gamma;
  schedule.warmup_steps = hp_.warmup.steps(steps_per_epoch_);
  for (const Duration& m : hp_.milestones) schedule.milestones.push_back(m.steps(steps_per_epoch_));
  optim::Sgd sgd(model_, {hp_.momentum, hp_.weight_decay, hp_.nesterov});

  int64_t start = 0;
  nlohmann::json loop;
  if (const auto resume = latest_checkpoint_step(dir_)) {
    load_checkpoint(dir_, model_, *resume);
    dir_.truncate_metrics_after(*resume);
    loop = checkpoint_loop_state(dir_);
    start = *resume;
    std::fprintf(stderr, "%s: continuing %s from its checkpoint at step %lld\n", options_.label.c_str(), dir_.path().c_str(),
                 static_cast<long long>(start));
  }

  const Device device = model_.device();
  Progress progress(options_.label, total_steps_, start);
  Tensor x, y;
  Tensor loss({}, DType::F32, device), loss_sum = Tensor::zeros({}, DType::F32, device);
  Tensor correct({}, DType::I32, device);
  int64_t interval_steps = 0, interval_images = 0;
  // A checkpoint between logging points carries the loss interval in progress, so the first row
  // after a resume averages the same steps as the uninterrupted run's.
  if (loop.contains("loss_sum") && loop.contains("interval_steps")) {
    loss_sum.fill(loop["loss_sum"].get<float>());
    interval_steps = loop["interval_steps"].get<int64_t>();
    interval_images = loop.value("interval_images", int64_t{0});
  }
  auto interval_start = Clock::now();
  const auto run_start = Clock::now();
  TrainResult result;
  int64_t images = 0;
  double overhead_seconds = 0;  // evaluation and checkpoints: not training throughput
  result.best_top1 = best_recorded_top1(dir_);

  const bool data_parallel = dist::distributed();
  // Time in the gradient all-reduce (on the CPU the collective itself; NCCL only enqueues).
  double interval_reduce_seconds = 0;
  float shard_weight = 1.0f;
  // One step's device work: forward, loss, backward (with the ranks' all-reduce), the update and
  // the loss sum; returns the logits. `device_lr`, when given, is read by the update as it runs.
  auto device_step = [&](const Tensor& bx, const Tensor& by, float lr, const Tensor* device_lr) {
    model_.set_training(true);
    model_.zero_grad();
    Tensor logits = model_.forward(bx);
    Tensor probs(logits.shape(), DType::F32, device), dlogits(logits.shape(), DType::F32, device);
    {
      const profile::Range r("softmax cross-entropy", device);
      ops::softmax_cross_entropy_forward(loss, probs, logits, by);
      ops::softmax_cross_entropy_backward(dlogits, probs, by);
      if (data_parallel) ops::scale(dlogits, shard_weight);
    }
    model_.backward(dlogits);
    if (data_parallel) {
      const profile::Range r("gradient all-reduce", device);
      const auto reduce_start = Clock::now();
      all_reduce_gradients(model_);
      interval_reduce_seconds += seconds_since(reduce_start);
    }
    {
      const profile::Range r("optimizer step", device);
      if (device_lr)
        sgd.step(*device_lr);
      else
        sgd.step(lr);
      if (options_.after_update) options_.after_update();
    }
    ops::axpy(loss_sum, data_parallel ? shard_weight : 1.0f, loss);
    return logits;
  };
  // Steps after the first of an invocation replay one captured graph (the first runs op by op,
  // so cuDNN has chosen its algorithms and the pool holds the step's blocks before the capture).
  std::optional<CapturedStep> captured;
  const std::string obstacle = capture_obstacle(model_, options_, data_parallel);
  if (obstacle.empty())
    captured.emplace(device, [&](const Tensor& bx, const Tensor& by, const Tensor& lr) {
      return device_step(bx, by, 0.0f, &lr);
    });
  else if (device.is_cuda() && options_.capture_step)
    progress.message("steps run op by op, not as one CUDA graph: " + obstacle);
  for (int64_t step = start; step < total_steps_; ++step) {
    const float lr = schedule.at(step);
    if (step == start && options_.profile_steps > 0) profile::start();
    std::optional<profile::Range> step_range(std::in_place, "step (rest)", device);
    if (options_.before_step) options_.before_step(step);
    {
      const profile::Range r("data", device);
      train_.batch(step, x, y);
    }
    // A data-parallel rank holds a shard of the global batch: its loss (a mean over the shard)
    // weighs shard / global in the global batch's mean, and so do its gradients.
    double global_rows = static_cast<double>(x.dim(0));
    if (data_parallel) dist::world().all_reduce_sum(&global_rows, 1);
    shard_weight = static_cast<float>(x.dim(0) / global_rows);
    BMC_CHECK(x.dim(0) > 0, "step ", step + 1, ": a global batch of ", global_rows, " images leaves rank ",
              dist::world().rank(), " of ", dist::world().size(), " without any (use fewer ranks or a larger batch)");
    Tensor logits;
    if (!(captured && step > start && captured->run(x, y, lr, logits))) logits = device_step(x, y, lr, nullptr);
    if (captured && captured->failed()) {
      progress.message("the step could not be captured as a CUDA graph (" + captured->why_failed() +
                       "); steps run op by op");
      captured.reset();
    }
    step_range.reset();
    ++interval_steps;
    interval_images += static_cast<int64_t>(global_rows);
    images += static_cast<int64_t>(global_rows);
    const int64_t done = step + 1;
    if (profile::active() && (done == start + options_.profile_steps || done == total_steps_))
      report_profile(dir_, profile::finish(), done - start, progress);

    if (done % options_.log_every == 0 || done == total_steps_) {
      ops::topk_correct(correct, logits, y, 1);
      // The loss and accuracy of the global batch (the ranks' shares summed); reading them
      // synchronises the device.
      double logged[2] = {loss_sum.to_vector<float>()[0], static_cast<double>(correct.to_vector<int32_t>()[0])};
      if (data_parallel) dist::world().all_reduce_sum(logged, 2);
      const double mean_loss = logged[0] / interval_steps;
      if (!std::isfinite(mean_loss)) {
        progress.finish();
        diverged(dir_, done, "the training loss is " + std::to_string(mean_loss));
      }
      const double acc = logged[1] / global_rows;
      const double ips = interval_images / std::max(1e-9, seconds_since(interval_start));
      nlohmann::json row = {{"step", done},
                            {"epoch", static_cast<double>(done) / steps_per_epoch_},
                            {"loss", mean_loss},
                            {"accuracy", acc},
                            {"lr", lr},
                            {"images_per_second", ips},
                            {"time", seconds_since(run_start)}};
      if (data_parallel) {
        row["allreduce_ms_per_step"] = 1e3 * interval_reduce_seconds / interval_steps;
        interval_reduce_seconds = 0;
      }
      dir_.append_metrics(row);
      progress.update(done, mean_loss, "acc " + percent(acc), ips);
      result.final_train_loss = mean_loss;
      loss_sum.fill_zero();
      interval_steps = interval_images = 0;
      interval_start = Clock::now();
    }
    if (done == options_.save_at_step && options_.on_save_at_step) options_.on_save_at_step(done);
    const auto overhead_start = Clock::now();
    if (done % options_.eval_every == 0 || done == total_steps_) {
      broadcast_buffers(model_);
      const EvalResult ev = evaluate(model_, test_);
      if (!std::isfinite(ev.loss)) {
        progress.finish();
        diverged(dir_, done, "the test loss is " + std::to_string(ev.loss));
      }
      dir_.append_metrics({{"step", done},
                           {"epoch", static_cast<double>(done) / steps_per_epoch_},
                           {"test_loss", ev.loss},
                           {"test_top1", ev.top1},
                           {"test_top5", ev.top5}});
      progress.message("step " + std::to_string(done) + ": test loss " + std::to_string(ev.loss) + ", top-1 " +
                       percent(ev.top1) + ", top-5 " + percent(ev.top5));
      result.test = ev;
      if (ev.top1 > result.best_top1) {
        result.best_top1 = ev.top1;
        write_model(dir_.file("model_best.safetensors"));
      }
    }
    if (done % options_.checkpoint_every == 0 || done % steps_per_epoch_ == 0 || done == total_steps_) {
      if (!all_finite(model_.values())) {
        progress.finish();
        diverged(dir_, done, "the weights are no longer finite");
      }
      if (options_.before_checkpoint) options_.before_checkpoint();
      broadcast_buffers(model_);
      if (data_parallel) {
        // The interval's loss so far is saved whole (rank 0 keeps the sum, the others restart at
        // 0), so a resumed run logs what the uninterrupted one does.
        double sum = loss_sum.to_vector<float>()[0];
        dist::world().all_reduce_sum(&sum, 1);
        loss_sum.fill(dist::is_root() ? static_cast<float>(sum) : 0.0f);
      }
      save_checkpoint(dir_, model_, done,
                      {{"loss_sum", loss_sum.to_vector<float>()[0]},
                       {"interval_steps", interval_steps},
                       {"interval_images", interval_images}});
    }
    const double overhead = seconds_since(overhead_start);
    overhead_seconds += overhead;
    interval_start += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(overhead));
    if (done == options_.stop_after_step) {
      progress.finish();
      result.steps = done;
      result.graph_replays = captured ? captured->replays() : 0;
      return result;
    }
  }
  progress.finish();
  if (options_.on_finish) options_.on_finish();
  result.finished = true;
  result.graph_replays = captured ? captured->replays() : 0;
  result.steps = total_steps_;
  result.seconds = seconds_since(run_start);
  result.images_per_second = images / std::max(1e-9, result.seconds - overhead_seconds);
  broadcast_buffers(model_);
  if (start == total_steps_) result.test = evaluate(model_, test_);
  write_model(dir_.file("model_final.safetensors"));
  return result;
}

}  // namespace bmc::train
