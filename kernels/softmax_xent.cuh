// Softmax cross-entropy cores shared by the CPU loops (ops/loss.cpp) and the kernels
// (kernels/softmax_xent.cu). The reduction *order* is part of the contract, so that the CPU and
// the kernel agree bitwise (expf/logf differ by ulps between glibc and CUDA, so a real GPU agrees
// only to ulp-ish tolerances):
// - a row is split over kXentLanes lanes: lane l reduces elements l, l + kXentLanes, ... in order,
//   then the lanes combine like a warp butterfly (lane_butterfly_sum below);
// - the batch mean adds per-row losses over kXentMeanThreads strided partials in order, then a
//   halving tree (tree_sum below), then divides by N.
// NaN rules: fmaxf skips NaN, so a NaN logit leaves the row max finite, and then expf(NaN) makes
// the row's sum, probabilities and loss NaN, so the NaN reaches the loss as in PyTorch.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

constexpr int kXentLanes = 32;          // one warp per row
constexpr int kXentMeanThreads = 256;   // threads of the single-block batch-mean reduction

// Max over this lane's elements of the row; -inf when the lane owns none.
BMC_HD float xent_lane_max(const float* row, int64_t k, int lane) {
  float m = -INFINITY;
  for (int64_t j = lane; j < k; j += kXentLanes) m = fmaxf(m, row[j]);
  return m;
}

// Sum over this lane's elements of exp(x - row_max).
BMC_HD float xent_lane_exp_sum(const float* row, int64_t k, int lane, float row_max) {
  float s = 0.0f;
  for (int64_t j = lane; j < k; j += kXentLanes) s += expf(row[j] - row_max);
  return s;
}

// softmax(x)_j = exp(x_j - max) / sum.
BMC_HD float xent_prob(float x, float row_max, float sum) { return expf(x - row_max) / sum; }

// -log softmax(x)[label] = log(sum) - (x[label] - max). An out-of-range label gives NaN (the
// CPU op rejects such labels before getting here; the GPU documents the NaN).
BMC_HD float xent_row_loss(const float* row, int64_t k, int32_t label, float row_max, float sum) {
  if (label < 0 || label >= k) return NAN;
  return logf(sum) - (row[label] - row_max);
}

// d(mean loss)/d logit = (p - [j == label]) / n.
BMC_HD float xent_grad(float p, bool is_label, int64_t n) {
  return (p - (is_label ? 1.0f : 0.0f)) / static_cast<float>(n);
}

// The combine order of a warp butterfly (warp_sum in kernels/device_compat.cuh): at each step
// lane l adds lane l ^ offset; every lane ends with the same total, which is returned. For the
// CPU path, which holds the kXentLanes partials in an array.
BMC_HD float lane_butterfly_sum(float (&v)[kXentLanes]) {
  for (int offset = kXentLanes / 2; offset > 0; offset >>= 1) {
    float next[kXentLanes];
    for (int l = 0; l < kXentLanes; ++l) next[l] = v[l] + v[l ^ offset];
    for (int l = 0; l < kXentLanes; ++l) v[l] = next[l];
  }
  return v[0];
}

// Halving tree over kXentMeanThreads partials (the shared-memory tree of the mean kernel).
BMC_HD float tree_sum(float (&v)[kXentMeanThreads]) {
  for (int stride = kXentMeanThreads / 2; stride > 0; stride >>= 1)
    for (int t = 0; t < stride; ++t) v[t] += v[t + stride];
  return v[0];
}

}  // namespace bmc
