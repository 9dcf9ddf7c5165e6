// 2:4 structured pruning with NVIDIA ASP's semantics (../shared/docs/algorithms/sparq.md, section
// 8): the m4n2_1d magnitude mask keeps the two largest |w| of every group of 4 consecutive input
// channels at a fixed output channel and kernel tap (conv (K, C, R, S)) or of 4 consecutive input
// features of an output row (linear), ties to the lower index; layers ASP leaves dense (output
// dimension not a multiple of 8 or input dimension not a multiple of 16: a ResNet stem with C = 3,
// a 10-class classifier) stay dense. The mask is computed once, from the trained weights;
// fine-tuning with it (bmc train --mask) keeps the pruned weights at exactly zero.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "nn/model.h"

namespace bmc::compress {

// ASP's eligibility test of a conv or linear weight shape.
bool asp_prunable(const Shape& weight_shape);

// The 0/1 m4n2_1d mask of a weight (K, C, ...) with C % 4 == 0.
std::vector<float> two_of_four_mask(const std::vector<float>& weight, const Shape& shape);

struct TwoOfFourResult {
  std::vector<std::string> pruned, dense;  // parameter names
};

// Writes the masks of every ASP-prunable conv / linear weight not in `ignore` (the others keep an
// all-ones mask) and zeroes the pruned weights and their momentum.
TwoOfFourResult prune_two_of_four(nn::Model& model, const std::set<std::string>& ignore);

}  // namespace bmc::compress
