// Pruning a whole model (OpenLTH's sparse_global and its layer-wise variant) and the masks the
// lottery-ticket experiments exchange. A mask file is safetensors with one u8 0/1 tensor per
// prunable parameter, named like the parameter (e.g. fc_layers.0.weight).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "nn/model.h"

namespace bmc::compress {

enum class PruningStrategy { SparseGlobal, Layerwise };
PruningStrategy parse_pruning_strategy(const std::string& name);  // sparse_global | layerwise

struct PruningOptions {
  PruningStrategy strategy = PruningStrategy::SparseGlobal;
  double fraction = 0.2;  // of the remaining weights, per level (double, as OpenLTH's Python float)
  std::set<std::string> ignore;      // prunable parameters left dense (e.g. "fc.weight")
};

// Conv and linear weights (ParamKind::Weight) not in `ignore`, in model order.
std::vector<nn::Parameter*> prunable_parameters(nn::Model& model, const std::set<std::string>& ignore);

// Number of weights one pruning step removes from `remaining`: ceil(fraction * remaining), as
// OpenLTH's sparse_global computes it.
int64_t weights_to_prune(int64_t remaining, double fraction);

// One pruning step by magnitude of the model's current weights; returns the number removed.
// Weights are not changed here: the caller resets or rewinds them and zeroes masked ones.
int64_t prune_by_magnitude(nn::Model& model, const PruningOptions& options);

struct LayerDensity {
  std::string name;
  int64_t total = 0;
  int64_t remaining = 0;
};
std::vector<LayerDensity> layer_densities(nn::Model& model, const std::set<std::string>& ignore);

// Random pruning with given per-layer remaining counts (exact): each layer keeps `remaining`
// positions chosen uniformly from Philox(seed); used for the random-pruning baseline.
void apply_random_masks(nn::Model& model, const std::vector<LayerDensity>& densities, uint64_t seed);

// Masked weights and their SGD momentum set to exactly zero (the invariant masked SGD keeps), and
// the mask parametrizations attached where the masks prune (nn::Model::masks_changed).
void zero_masked_state(nn::Model& model);

void save_mask(const std::string& path, nn::Model& model, const std::set<std::string>& ignore);
// Loads the masks and zeroes the masked weights and momentum.
void load_mask(const std::string& path, nn::Model& model);
// Refuses a loaded mask that prunes a layer `ignore` keeps dense (a contradiction the pruning
// would otherwise carry on silently); `source` names the mask in the message.
void check_ignored_layers_dense(nn::Model& model, const std::set<std::string>& ignore, const std::string& source);
// The prunable weights of the model a mask file has no entry for (they stay dense).
std::vector<std::string> layers_without_mask(const std::string& path, nn::Model& model);
// Fraction of ones over all tensors of a mask file (the density of the layers it prunes).
double mask_file_density(const std::string& path);

}  // namespace bmc::compress
