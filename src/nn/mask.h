// The pruning mask as a parametrization: effective weight = w * m, gradient masked. The mask
// itself lives in the model's mask arena (one buffer, for global pruning), and every writer of
// the arena keeps the invariant w == w * m (masked SGD forces pruned weights and their momentum
// to +0; load_mask, rewinding and checkpoint loads zero them). So the link is a passthrough: it is
// always first in its chain and costs nothing, and a fake-quant link after it sees exact zeros.
// Model::masks_changed() attaches it to every parameter with a pruned entry.
#pragma once

#include "nn/parametrization.h"

namespace bmc::nn {

class MaskParametrization : public Parametrization {
 public:
  static constexpr const char* kKind = "mask";
  std::string describe() const override { return kKind; }
  bool passthrough() const override { return true; }
  // Never called: a leading passthrough link is skipped by the chain.
  Tensor forward(const Tensor& w) override;
  Tensor backward(const Tensor& dy) override;
};

}  // namespace bmc::nn
