// OpenLTH's default training hyper-parameters per model family (see docs/openlth_defaults.md for
// where each value was checked upstream). Every value can be overridden on the command line.
#pragma once

#include <string>

#include "train/hparams.h"

namespace bmc::train {

TrainHparams default_hparams(const std::string& model);

}  // namespace bmc::train
