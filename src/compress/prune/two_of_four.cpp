#include "compress/prune/two_of_four.h"

#include <algorithm>
#include <cmath>

#include "compress/prune/model_pruning.h"

namespace bmc::compress {

bool asp_prunable(const Shape& s) { return s.rank() >= 2 && s[0] % 8 == 0 && s[1] % 16 == 0; }

std::vector<float> two_of_four_mask(const std::vector<float>& w, const Shape& shape) {
  BMC_CHECK(shape.rank() >= 2 && shape[1] % 4 == 0 && static_cast<int64_t>(w.size()) == shape.numel(),
            "2:4 mask: expected a weight (K, C, ...) with C a multiple of 4, got ", shape.str());
  const int64_t k = shape[0], c = shape[1], taps = shape.numel() / (k * c);
  std::vector<float> mask(w.size(), 0.0f);
  for (int64_t o = 0; o < k; ++o)
    for (int64_t g = 0; g < c; g += 4)
      for (int64_t t = 0; t < taps; ++t) {
        int64_t idx[4];
        for (int q = 0; q < 4; ++q) idx[q] = (o * c + g + q) * taps + t;
        // Two largest magnitudes; on equal magnitude the lower channel wins.
        std::stable_sort(idx, idx + 4, [&](int64_t a, int64_t b) { return std::fabs(w[a]) > std::fabs(w[b]); });
        mask[idx[0]] = mask[idx[1]] = 1.0f;
      }
  return mask;
}

TwoOfFourResult prune_two_of_four(nn::Model& model, const std::set<std::string>& ignore) {
  TwoOfFourResult result;
  for (nn::Parameter* p : prunable_parameters(model, {})) {
    if (ignore.count(p->name) || !asp_prunable(p->shape)) {
      result.dense.push_back(p->name);
      continue;
    }
    const std::vector<float> mask = two_of_four_mask(p->value.to_vector<float>(), p->shape);
    p->mask.copy_from(Tensor::from_vector(mask, p->shape, p->mask.device()));
    result.pruned.push_back(p->name);
  }
  zero_masked_state(model);
  return result;
}

}  // namespace bmc::compress
