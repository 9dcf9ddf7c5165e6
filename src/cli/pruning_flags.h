// Pruning flags shared by `bmc lottery` and `bmc prune`: strategy and the layers left dense, with
// OpenLTH's per-model defaults.
#pragma once

#include <string>

#include "cli/args.h"
#include "compress/prune/model_pruning.h"

namespace bmc::cli {

void declare_pruning_flags(Args& args);
// Strategy and ignore list from the flags (fraction left at its default; callers set it).
compress::PruningOptions pruning_from_flags(const Args& args, const std::string& model);
// Throws a UsageError naming any layer to ignore that is not a prunable weight of `model`.
void check_pruning_layers(const compress::PruningOptions& options, nn::Model& model);

}  // namespace bmc::cli
