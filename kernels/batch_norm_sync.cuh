// Synchronised batch norm's per-element math (training over the shards of several processes):
// the statistics come from sums reduced across them, so the per-channel steps and the per-element
// steps are separate kernels with an all-reduce between them (kernels/batch_norm_sync.cu; the
// CPU backend's double-precision form is in src/ops/batch_norm.cpp). Roundings are explicit
// (mul_rn / add_rn): no fused multiply-add, so host and device agree.
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

// (x - mean) * invstd
BMC_HD float bn_xhat(float x, float mean, float invstd) { return mul_rn(add_rn(x, -mean), invstd); }

// gamma * xhat + beta
BMC_HD float bn_output(float x, float mean, float invstd, float gamma, float beta) {
  return add_rn(mul_rn(gamma, bn_xhat(x, mean, invstd)), beta);
}

// gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)), the means over every shard.
BMC_HD float bn_input_grad(float dy, float x, float mean, float invstd, float gamma, float mean_dy,
                           float mean_dy_xhat) {
  const float centred = add_rn(add_rn(dy, -mean_dy), -mul_rn(bn_xhat(x, mean, invstd), mean_dy_xhat));
  return mul_rn(mul_rn(gamma, invstd), centred);
}

// Element j of channel c's outer * inner values in an (outer, channels, inner) tensor.
BMC_HD int64_t bn_channel_element(int64_t c, int64_t j, int64_t channels, int64_t inner) {
  return (j / inner * channels + c) * inner + j % inner;
}

}  // namespace bmc
