// Training hyper-parameters for a model: OpenLTH's defaults (models/hparams.h, checked upstream in
// docs/openlth_defaults.md) in the form the trainer uses. Every value can be overridden.
#pragma once

#include <string>

#include "train/hparams.h"

namespace bmc::train {

TrainHparams default_hparams(const std::string& model);

}  // namespace bmc::train
