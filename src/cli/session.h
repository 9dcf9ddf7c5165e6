// What every training-based command sets up the same way: the device, the dataset splits and
// their loaders, the model (initialised from the seed), masks, and the summary/report at the end.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "datasets/data_loader.h"
#include "datasets/folder_loader.h"
#include "io/run_dir.h"
#include "nn/model.h"
#include "train/data_setup.h"
#include "train/hparams.h"
#include "train/trainer.h"

namespace bmc::cli {

class Session {
 public:
  Session(const Args& args, const train::TrainHparams& hp);

  Device device() const { return device_; }
  const train::DataSplits& splits() const { return splits_; }
  const data::BatchSource& train_loader() const { return *train_loader_; }
  const data::BatchSource& test_loader() const { return *test_loader_; }
  // Calibration batches for PTQ: the training split in a fixed shuffled order (`seed`), without
  // augmentation (for image folders: the evaluation transform), `batch_size` images each.
  std::unique_ptr<data::BatchSource> calibration_loader(int batch_size, uint64_t seed) const;
  // The same batches with the training augmentation (LatticeQ calibrates on augmented images).
  std::unique_ptr<data::BatchSource> augmented_calibration_loader(int batch_size, uint64_t seed) const;

  // A fresh model of hp.model on the device, initialised from hp.seed (OpenLTH initialisers).
  std::unique_ptr<nn::Model> make_model(uint64_t seed_override = UINT64_MAX) const;
  // The model with the weights of `checkpoint` and, when `mask` is not empty, that mask.
  std::unique_ptr<nn::Model> load_model(const std::string& checkpoint, const std::string& mask) const;
  // Loads a mask file (compress::load_mask) and zeroes the masked weights.
  void apply_mask(nn::Model& model, const std::string& path) const;

  nlohmann::json summary(const train::TrainResult& result, int64_t total_steps) const;
  // The summary of an evaluation of the test split: model, dataset, split, counts, loss, top-1/5,
  // time and images/s, with "finished": true.
  nlohmann::json eval_summary(const train::EvalResult& ev) const;
  // Prints the run directory and the result (one JSON line on stdout with --json). Returns 0.
  int report(const io::RunDir& dir, const nlohmann::json& summary) const;

 private:
  const Args& args_;
  train::TrainHparams hp_;
  Device device_;
  std::string data_dir_;
  train::DataSplits splits_;
  data::LoaderOptions test_options_;  // in-memory datasets
  data::StreamOptions stream_test_options_;  // streamed image folders
  std::unique_ptr<data::BatchSource> train_loader_, test_loader_;
};

}  // namespace bmc::cli
