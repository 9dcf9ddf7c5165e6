// Training hyper-parameters, their parsing from the command line forms OpenLTH uses
// ("40ep", "2000it", "80ep,120ep"), and the hash that names a run directory. Only fields that
// change results enter the hash (the device, output folder and logging cadence do not).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bmc::train {

// A duration in epochs or iterations: "40ep", "2000it", "1ep".
struct Duration {
  int64_t value = 0;
  bool epochs = true;

  static Duration parse(const std::string& text);  // throws bmc::Error on bad text
  // Throws bmc::Error when the step count does not fit 64 bits.
  int64_t steps(int64_t steps_per_epoch) const;
  std::string str() const;
};

struct TrainHparams {
  std::string model;
  std::string dataset;
  uint64_t seed = 0;  // model initialisation
  uint64_t data_seed = 0;  // data order and augmentation
  // OpenLTH's replicates: the same experiment again with other seeds. Replicate K trains with
  // `seed` and `data_seed` already increased by K - 1 (hparams_from_flags does it); run_id()
  // files it under the hash of replicate 1.
  int replicate = 1;
  int batch_size = 128;
  float lr = 0.1f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
  std::vector<Duration> milestones;
  float gamma = 0.1f;
  Duration warmup{0, false};
  Duration training_length{40, true};
  bool augment = false;
  int64_t holdout_per_class = 0;  // images per class held out of training for validation
  // Streamed image folders (ImageNet): the crop side and the eval resize of the shorter side
  // (0: 224 and 256, torchvision's reference).
  int crop_size = 0, resize_size = 0;
  int num_classes = 0;  // classifier outputs (0: the dataset's classes)
  // Evaluation batch (0: max(batch_size, 500) for in-memory datasets, batch_size for streamed
  // ones). It changes results only where a quantizer ranges over the batch (BSQ's activations).
  int eval_batch_size = 0;
  bool skip_bad_images = false;  // image folders: skip undecodable images instead of failing
  // Content digests of a mask / starting weights when training uses them (empty otherwise).
  std::string mask_digest;
  std::string init_digest;
  // Quantization-aware training (compress::QatConfig::describe()), empty for float training.
  std::string qat;
  // Data-parallel processes and whether their batch norms share statistics: a run on N ranks
  // sums its gradients in another order, and without synchronised batch norm normalises each
  // shard by itself, so it is another run than the one-process one.
  int data_parallel_ranks = 1;
  bool sync_batch_norm = false;

  nlohmann::json to_json() const;  // "replicate" only when > 1
  std::string hash() const;  // 16 hex digits of a stable hash of to_json()
  // The same hash over any JSON description (commands that extend the training hparams).
  static std::string hash_of(const nlohmann::json& description);
};

// The run directory's name after "<kind>_": the hash of `hparams` as replicate 1 would have it
// (seeds back at their base values, no "replicate" field), then "_r<K>" for replicate K > 1, so
// the replicates of an experiment share its hash (bmc report averages them).
std::string run_id(const nlohmann::json& hparams);
// "lottery_0123456789abcdef_r2" -> "lottery_0123456789abcdef" (a name without the suffix as is).
std::string without_replicate_suffix(const std::string& run_dir_name);

std::vector<Duration> parse_durations(const std::string& comma_separated);
// 16 hex digits identifying a file's contents (for masks and weights that enter a run's hash).
std::string file_digest(const std::string& path);

}  // namespace bmc::train
