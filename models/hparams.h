// OpenLTH's default hyper-parameters per model family (open_lth/models/*.py default_hparams(),
// checked value by value in docs/openlth_defaults.md). Steps are OpenLTH strings: "40ep" (epochs)
// or "2000it" (iterations).
#pragma once

#include <string>
#include <vector>

namespace bmc::models {

struct DefaultHparams {
  std::string dataset;
  int batch_size = 128;
  std::string model_init = "kaiming_normal";
  std::string batchnorm_init = "uniform";
  float lr = 0.1f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;              // OpenLTH None = no decay
  std::vector<std::string> milestones;  // e.g. {"80ep", "120ep"}; empty = constant rate
  float gamma = 0.1f;                   // unused without milestones (OpenLTH None)
  std::string warmup;                   // e.g. "5ep"; empty = no warmup
  std::string training_steps;           // e.g. "160ep"
  float pruning_fraction = 0.2f;
  std::vector<std::string> pruning_layers_to_ignore;  // e.g. {"fc.weight"}
};

// Throws bmc::Error listing the valid names for an unknown model.
DefaultHparams default_hparams(const std::string& model);
std::string default_dataset(const std::string& model);

}  // namespace bmc::models
