#include "cli/session.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "compress/prune/model_pruning.h"
#include "dist/communicator.h"
#include "compress/quant/ptq_pipeline.h"
#include "datasets/find_dataset.h"
#include "datasets/normalization.h"
#include "train/defaults.h"
#include "models/init.h"
#include "models/registry.h"
#include "train/checkpoint.h"

#if BMC_HAS_CUDA
#include "core/cuda_context.h"
#endif

namespace bmc::cli {
namespace {

// CIFAR-10 is found as the binary batches or, failing that, as class folders of JPEGs.
std::string find_data_dir(const std::string& dataset) {
  if (dataset == "cifar10") {
    for (const auto& dir : data::dataset_search_path("cifar10"))
      if (data::dataset_dir_complete("cifar10", dir)) return dir;
    for (const auto& dir : data::dataset_search_path("cifar10-jpeg"))
      if (data::dataset_dir_complete("cifar10-jpeg", dir)) return dir;
  }
  return data::find_dataset_dir(dataset);
}

}  // namespace

Session::Session(const Args& args, const train::TrainHparams& hp)
    : args_(args), hp_(hp), device_(parse_device(args.get("device"))) {
  // Data-parallel ranks on one machine drive one GPU each unless the command names one.
  if (dist::distributed() && device_.is_cuda() && args.get("device").find(':') == std::string::npos)
    device_ = Device::cuda(dist::local_rank() % cuda_device_count());
  if (args.on("deterministic") && device_.is_cuda()) {
#if BMC_HAS_CUDA
    cuda::context(device_).deterministic = true;
#endif
  }
  train::check_holdout_flag(hp.dataset, hp.holdout_per_class);
  data_dir_ = args.given("data") ? args.get("data") : find_data_dir(hp.dataset);
  // Rank 0 reads first, so the files it extracts and caches are complete before the others read.
  if (dist::distributed() && !dist::is_root()) dist::world().barrier();
  splits_ = train::load_splits(hp.dataset, data_dir_, hp.holdout_per_class, hp.skip_bad_images);
  if (dist::distributed() && dist::is_root()) dist::world().barrier();
  const data::Shard shard{dist::world().rank(), dist::world().size()};
  if (splits_.streamed) {
    data::StreamOptions train_options;
    train_options.batch_size = hp.batch_size;
    train_options.train = hp.augment;
    train_options.shuffle = true;
    train_options.seed = hp.data_seed;
    train_options.crop_size = hp.crop_size > 0 ? hp.crop_size : 224;
    train_options.resize_size = hp.resize_size > 0 ? hp.resize_size : 256;
    const int workers = args.get_int("workers");
    if (workers < 0) throw UsageError{"--workers must be 0 (one per core) or positive"};
    train_options.workers = workers > 0 ? workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    train_options.norm = data::standard_normalization(hp.dataset);
    train_options.skip_bad_images = hp.skip_bad_images;
    stream_test_options_ = train_options;
    stream_test_options_.train = false;
    stream_test_options_.shuffle = false;
    if (hp.eval_batch_size > 0) stream_test_options_.batch_size = hp.eval_batch_size;
    data::StreamOptions sharded_test = stream_test_options_;
    train_options.shard = sharded_test.shard = shard;
    train_loader_ = std::make_unique<data::FolderLoader>(splits_.train_list, train_options, device_);
    test_loader_ = std::make_unique<data::FolderLoader>(splits_.test_list, sharded_test, device_);
    std::fprintf(stderr, "bmc: %s on %s: %lld training images, %lld %s images in %d classes (%s), data from %s\n",
                 hp.model.c_str(), device_.str().c_str(), static_cast<long long>(splits_.train_size()),
                 static_cast<long long>(splits_.test_size()), splits_.test_split.c_str(), splits_.num_classes(),
                 splits_.layout.c_str(), data_dir_.c_str());
    return;
  }
  data::LoaderOptions train_options;
  train_options.batch_size = hp.batch_size;
  train_options.shuffle = true;
  train_options.seed = hp.data_seed;
  train_options.augment = hp.augment ? data::Augment::CropFlip : data::Augment::None;
  train_options.norm = data::standard_normalization(hp.dataset);
  data::LoaderOptions test_options = train_options;
  test_options.shuffle = false;
  test_options.augment = data::Augment::None;
  test_options.batch_size = hp.eval_batch_size > 0 ? hp.eval_batch_size : std::max(hp.batch_size, 500);
  test_options_ = test_options;
  train_options.shard = test_options.shard = shard;
  train_loader_ = std::make_unique<data::DataLoader>(splits_.train, device_, train_options);
  test_loader_ = std::make_unique<data::DataLoader>(splits_.test, device_, test_options);
  std::fprintf(stderr, "bmc: %s on %s: %lld training images, %lld %s images, data from %s\n", hp.model.c_str(),
               device_.str().c_str(), static_cast<long long>(splits_.train.labels.numel()),
               static_cast<long long>(splits_.test.labels.numel()), splits_.test_split.c_str(), data_dir_.c_str());
}

std::unique_ptr<data::BatchSource> Session::calibration_loader(int batch_size, uint64_t seed) const {
  if (!splits_.streamed)
    return compress::calibration_loader(splits_.train, test_options_, device_, batch_size, seed);
  data::StreamOptions o = stream_test_options_;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.seed = seed;
  return std::make_unique<data::FolderLoader>(splits_.train_list, o, device_);
}

std::unique_ptr<data::BatchSource> Session::augmented_calibration_loader(int batch_size, uint64_t seed) const {
  if (!splits_.streamed) {
    data::LoaderOptions o = test_options_;
    o.batch_size = batch_size;
    o.shuffle = true;
    o.seed = seed;
    o.augment = hp_.augment ? data::Augment::CropFlip : data::Augment::None;
    return std::make_unique<data::DataLoader>(splits_.train, device_, o);
  }
  data::StreamOptions o = stream_test_options_;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.seed = seed;
  o.train = true;
  return std::make_unique<data::FolderLoader>(splits_.train_list, o, device_);
}

std::unique_ptr<nn::Model> Session::make_model(uint64_t seed_override) const {
  BMC_CHECK(hp_.num_classes == 0 || hp_.num_classes >= splits_.num_classes(), "--num-classes ", hp_.num_classes,
            " is fewer than the dataset's ", splits_.num_classes(), " classes");
  auto model = models::make_model(hp_.model, device_, hp_.num_classes > 0 ? hp_.num_classes : splits_.num_classes());
  const train::ModelDefaults defaults = train::model_defaults(hp_.model);
  models::initialize(*model, seed_override == UINT64_MAX ? hp_.seed : seed_override, defaults.model_init,
                     defaults.batchnorm_init);
  return model;
}

std::unique_ptr<nn::Model> Session::load_model(const std::string& checkpoint, const std::string& mask) const {
  auto model = make_model();
  train::load_weights(checkpoint, *model);
  if (!mask.empty()) apply_mask(*model, mask);
  return model;
}

void Session::apply_mask(nn::Model& model, const std::string& path) const { compress::load_mask(path, model); }

nlohmann::json Session::summary(const train::TrainResult& result, int64_t total_steps) const {
  return {{"finished", result.finished},
          {"model", hp_.model},
          {"dataset", hp_.dataset},
          {"device", device_.str()},
          {"steps", total_steps},
          {"eval_split", splits_.test_split},
          {"test_loss", result.test.loss},
          {"test_top1", result.test.top1},
          {"test_top5", result.test.top5},
          {"best_top1", std::max(result.best_top1, result.test.top1)},
          {"final_train_loss", result.final_train_loss},
          {"train_seconds", result.seconds},
          {"images_per_second", result.images_per_second},
          {"cuda_graph_steps", result.graph_replays}};
}

int Session::report(const io::RunDir& dir, const nlohmann::json& summary) const {
  nlohmann::json out = summary;
  out["run_dir"] = dir.path();
  if (args_.on("json")) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("run directory: %s\n", dir.path().c_str());
    std::printf("%s top-1 %.2f%%  top-5 %.2f%%  loss %.4f", summary.value("eval_split", "test").c_str(),
                100 * summary.value("test_top1", 0.0), 100 * summary.value("test_top5", 0.0),
                summary.value("test_loss", 0.0));
    if (summary.contains("images_per_second")) std::printf("  %.0f images/s", summary["images_per_second"].get<double>());
    std::printf("\n");
  }
  return 0;
}

nlohmann::json Session::eval_summary(const train::EvalResult& ev) const {
  return {{"finished", true},
          {"model", hp_.model},
          {"dataset", hp_.dataset},
          {"eval_split", splits_.test_split},
          {"examples", ev.examples},
          {"test_loss", ev.loss},
          {"test_top1", ev.top1},
          {"test_top5", ev.top5},
          {"seconds", ev.seconds},
          {"images_per_second", ev.images_per_second}};
}

}  // namespace bmc::cli
