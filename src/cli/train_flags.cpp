#include "cli/train_flags.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "dist/communicator.h"
#include "io/atomic_file.h"
#include "train/defaults.h"

namespace bmc::cli {

void declare_run_flags(Args& args) {
  args.option("data", "", "dataset directory (default: found with `bmc data fetch` rules)");
  args.option("device", "auto", "cpu, cuda, cuda:N or auto");
  args.option("out", "runs", "root folder for run directories");
  args.option("workers", "0", "image folders: decode threads (0: one per core)");
  args.flag("json", "print the summary as one JSON line on stdout");
}

void declare_model_data_flags(Args& args) {
  args.option("model", "mnist_lenet_300_100", "architecture (mnist_lenet_300_100, cifar_resnet_20, resnet18, ...)");
  args.option("dataset", "", "dataset name (default: the model's)");
  args.option("batch-size", "", "mini-batch size (default: the model's)");
  args.option("eval-batch-size", "", "evaluation batch (default: max(batch size, 500); streamed folders: the batch size)");
  args.option("holdout-per-class", "", "training images per class held out as the validation split");
  args.option("num-classes", "", "classifier outputs (default: the dataset's classes; e.g. 1000 for a subset of ImageNet)");
  args.option("crop-size", "", "image folders (ImageNet): crop side (default 224)");
  args.flag("skip-bad-images", "image folders: skip undecodable images with a warning instead of failing");
  args.option("resize-size", "", "image folders: evaluation resize of the shorter side (default 256)");
  declare_run_flags(args);
}

void declare_train_flags(Args& args) {
  declare_model_data_flags(args);
  args.option("seed", "0", "initialisation seed");
  args.option("data-seed", "", "data order and augmentation seed (default: --seed)");
  args.option("replicate", "1", "replicate K of the experiment: seeds + K - 1, the same hash (run dir <hash>_rK)");
  args.option("lr", "", "learning rate");
  args.option("momentum", "", "SGD momentum");
  args.option("weight-decay", "", "L2 weight decay");
  args.flag("nesterov", "Nesterov momentum");
  args.option("milestones", "", "LR decay points, e.g. 80ep,120ep (\"none\" for none)");
  args.option("gamma", "", "LR decay factor at each milestone");
  args.option("warmup", "", "linear LR warmup length, e.g. 1000it");
  args.option("training-steps", "", "training length, e.g. 40ep or 2000it");
  args.option("augment", "", "on or off (default: the model's)");
  args.option("log-every", "100", "steps between metric rows and progress updates");
  args.option("eval-every", "1ep", "test evaluation interval (e.g. 1ep, 500it)");
  args.option("checkpoint-every", "1ep", "checkpoint interval (also at every epoch end)");
  args.flag("deterministic", "CUDA: deterministic cuDNN algorithms (bit-reproducible GPU runs)");
  args.flag("no-cuda-graph", "CUDA: run every training step op by op instead of replaying one captured graph");
  args.option("profile", "0", "time every layer's forward and backward over the first N steps: a table on stderr and in profile.txt");
  args.flag("distributed", "data-parallel over the MPI ranks this process was started among (mpirun -np N bmc ...)");
  args.flag("sync-batch-norm", "with --distributed: batch-norm statistics of the global batch (default: per rank, as PyTorch DDP)");
  args.option("collective-timeout", "600", "with --distributed: seconds a rank waits for the others before stopping the job");
}

namespace {

// --distributed: joins the MPI job; rank 0 alone writes files and prints results, the others
// compute alike and keep quiet.
void start_data_parallel(const Args& args, train::TrainHparams& hp) {
  if (!args.on("distributed")) {
    if (args.on("sync-batch-norm") || args.given("collective-timeout"))
      throw UsageError{"--sync-batch-norm and --collective-timeout need --distributed"};
    return;
  }
  const double timeout = args.get_double("collective-timeout");
  if (!(timeout > 0)) throw UsageError{"--collective-timeout must be a positive number of seconds"};
  dist::start_mpi(timeout);
  dist::set_sync_batch_norm(args.on("sync-batch-norm"));
  io::set_writes_files(dist::is_root());
  if (!dist::is_root() && !std::freopen("/dev/null", "w", stdout))
    throw UsageError{"rank " + std::to_string(dist::world().rank()) + ": cannot silence its standard output"};
  hp.data_parallel_ranks = dist::world().size();
  hp.sync_batch_norm = args.on("sync-batch-norm") && dist::distributed();
  if (hp.batch_size < hp.data_parallel_ranks)
    throw UsageError{"--batch-size " + std::to_string(hp.batch_size) + " is smaller than the " +
                     std::to_string(hp.data_parallel_ranks) + " data-parallel ranks"};
}

}  // namespace

train::TrainHparams hparams_from_flags(const Args& args) {
  train::TrainHparams hp = train::default_hparams(args.get("model"));
  if (args.given("dataset")) hp.dataset = args.get("dataset");
  if (args.given("seed")) hp.seed = static_cast<uint64_t>(args.get_int64("seed"));
  hp.data_seed = args.given("data-seed") ? static_cast<uint64_t>(args.get_int64("data-seed")) : hp.seed;
  hp.replicate = args.given("replicate") ? args.get_int("replicate") : 1;  // commands from a checkpoint lack the flag
  if (hp.replicate < 1) throw UsageError{"--replicate must be 1 or more"};
  hp.seed += static_cast<uint64_t>(hp.replicate - 1);
  hp.data_seed += static_cast<uint64_t>(hp.replicate - 1);
  if (args.given("batch-size")) hp.batch_size = args.get_int("batch-size");
  if (args.given("eval-batch-size")) {
    hp.eval_batch_size = args.get_int("eval-batch-size");
    if (hp.eval_batch_size <= 0) throw UsageError{"--eval-batch-size must be positive"};
  }
  if (args.given("lr")) hp.lr = static_cast<float>(args.get_double("lr"));
  if (args.given("momentum")) hp.momentum = static_cast<float>(args.get_double("momentum"));
  if (args.given("weight-decay")) hp.weight_decay = static_cast<float>(args.get_double("weight-decay"));
  if (args.on("nesterov")) hp.nesterov = true;
  if (args.given("milestones"))
    hp.milestones = args.get("milestones") == "none" ? std::vector<train::Duration>{}
                                                     : train::parse_durations(args.get("milestones"));
  if (args.given("gamma")) hp.gamma = static_cast<float>(args.get_double("gamma"));
  if (args.given("warmup")) hp.warmup = train::Duration::parse(args.get("warmup"));
  if (args.given("training-steps")) hp.training_length = train::Duration::parse(args.get("training-steps"));
  if (args.given("augment")) {
    const std::string a = args.get("augment");
    if (a != "on" && a != "off") throw UsageError{"--augment expects on or off, got '" + a + "'"};
    hp.augment = a == "on";
  }
  if (args.given("holdout-per-class")) hp.holdout_per_class = args.get_int64("holdout-per-class");
  if (args.given("crop-size")) hp.crop_size = args.get_int("crop-size");
  if (args.given("num-classes")) hp.num_classes = args.get_int("num-classes");
  hp.skip_bad_images = args.on("skip-bad-images");
  if (hp.num_classes < 0) throw UsageError{"--num-classes must be positive"};
  if (args.given("resize-size")) hp.resize_size = args.get_int("resize-size");
  if (hp.crop_size < 0 || hp.resize_size < 0 || (hp.crop_size > 0 && hp.resize_size > 0 && hp.resize_size < hp.crop_size))
    throw UsageError{"--crop-size and --resize-size must be positive, the crop no larger than the resize"};
  if (hp.batch_size <= 0) throw UsageError{"--batch-size must be positive"};
  const std::string out = args.get("out");
  if (out.empty()) throw UsageError{"--out must name a folder"};
  if (std::filesystem::exists(out) && !std::filesystem::is_directory(out))
    throw UsageError{"--out " + out + " exists and is not a folder"};
  if (!std::isfinite(hp.lr) || !std::isfinite(hp.momentum) || !std::isfinite(hp.weight_decay) || !std::isfinite(hp.gamma))
    throw UsageError{"--lr, --momentum, --weight-decay and --gamma must be finite numbers"};
  if (hp.lr < 0 || hp.momentum < 0 || hp.weight_decay < 0)
    throw UsageError{"--lr, --momentum and --weight-decay must be non-negative"};
  start_data_parallel(args, hp);
  return hp;
}

train::TrainOptions options_from_flags(const Args& args, int64_t steps_per_epoch) {
  train::TrainOptions options;
  options.log_every = args.get_int64("log-every");
  options.eval_every = train::Duration::parse(args.get("eval-every")).steps(steps_per_epoch);
  options.checkpoint_every = train::Duration::parse(args.get("checkpoint-every")).steps(steps_per_epoch);
  options.profile_steps = args.get_int64("profile");
  if (options.profile_steps < 0) throw UsageError{"--profile takes a number of steps (0: off)"};
  options.capture_step = !args.on("no-cuda-graph");
  return options;
}

train::TrainHparams checkpoint_hparams_from_flags(const Args& args, const std::string& command) {
  if (!args.given("checkpoint")) throw UsageError{"bmc " + command + ": --checkpoint is required"};
  train::TrainHparams hp = hparams_from_flags(args);
  hp.init_digest = train::file_digest(args.get("checkpoint"));
  if (args.given("mask")) hp.mask_digest = train::file_digest(args.get("mask"));
  return hp;
}

}  // namespace bmc::cli
