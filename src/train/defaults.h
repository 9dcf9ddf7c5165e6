// OpenLTH's default hyper-parameters per model family (open_lth/models/*.py default_hparams(),
// checked value by value in docs/openlth_defaults.md): the one home of every default, in the form
// the trainer uses. Every value can be overridden from the command line.
#pragma once

#include <string>
#include <vector>

#include "train/hparams.h"

namespace bmc::train {

struct ModelDefaults {
  TrainHparams train;  // model, dataset and every training hyper-parameter
  std::string model_init = "kaiming_normal";
  std::string batchnorm_init = "uniform";
  std::vector<std::string> pruning_layers_to_ignore;  // e.g. {"fc.weight"}
};

// Throws bmc::Error listing the valid names for an unknown model.
ModelDefaults model_defaults(const std::string& model);
TrainHparams default_hparams(const std::string& model);  // model_defaults(model).train

}  // namespace bmc::train
