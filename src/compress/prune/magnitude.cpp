#include "compress/prune/magnitude.h"

#if BMC_HAS_CUDA
#include "compress/prune/magnitude_cuda.h"
#endif

#include <omp.h>

#include <algorithm>

#include "ops/check.h"

namespace bmc::compress {

namespace {

void check_segments(const std::vector<PruneSegment>& segments) {
  BMC_CHECK(!segments.empty(), "pruning: no prunable segments");
  const Device device = segments.front().weights.device();
  for (const PruneSegment& s : segments) {
    ops::check_dtype("pruning", "weights", s.weights, DType::F32);
    ops::check_shape("pruning", "mask", s.mask, s.weights.shape());
    BMC_CHECK(s.weights.device() == device && s.mask.device() == device, "pruning: segments on different devices");
    BMC_CHECK(s.base_index >= 0 && s.base_index + s.weights.numel() <= (int64_t{1} << 32),
              "pruning: arena indices must fit 32 bits");
  }
}

// Histogram of the top 16 bits of |w| over the unpruned weights (per-thread, then merged).
std::vector<uint64_t> top_digit_histogram(const std::vector<PruneSegment>& segments) {
  std::vector<uint64_t> counts(kPruneBins, 0);
#pragma omp parallel
  {
    std::vector<uint32_t> local(kPruneBins, 0);
    for (const PruneSegment& s : segments) {
      const float* w = s.weights.data<float>();
      const float* m = s.mask.data<float>();
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < s.weights.numel(); ++i)
        if (m[i] != 0.0f) ++local[magnitude_bits(w[i]) >> kPruneDigitBits];
    }
#pragma omp critical
    for (uint32_t b = 0; b < kPruneBins; ++b) counts[b] += local[b];
  }
  return counts;
}

// The unpruned keys whose top digit is `bin`, in no particular order.
std::vector<PruneKey> collect_bin(const std::vector<PruneSegment>& segments, uint32_t bin) {
  std::vector<PruneKey> all;
#pragma omp parallel
  {
    std::vector<PruneKey> local;
    for (const PruneSegment& s : segments) {
      const float* w = s.weights.data<float>();
      const float* m = s.mask.data<float>();
      const uint32_t base = static_cast<uint32_t>(s.base_index);
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < s.weights.numel(); ++i) {
        const uint32_t bits = magnitude_bits(w[i]);
        if (m[i] != 0.0f && (bits >> kPruneDigitBits) == bin) local.push_back({bits, base + static_cast<uint32_t>(i)});
      }
    }
#pragma omp critical
    all.insert(all.end(), local.begin(), local.end());
  }
  return all;
}

// rank: 0-based position among unpruned keys; the order within a bin is restored by the sort.
PruneKey find_threshold_cpu(const std::vector<PruneSegment>& segments, int64_t rank) {
  const std::vector<uint64_t> counts = top_digit_histogram(segments);
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  BMC_CHECK(rank >= 0 && static_cast<uint64_t>(rank) < total, "pruning: cannot select the ", rank + 1,
            "-th smallest of ", total, " unpruned weights");
  uint32_t bin = 0;
  for (; bin < kPruneBins; ++bin) {
    if (rank < static_cast<int64_t>(counts[bin])) break;
    rank -= static_cast<int64_t>(counts[bin]);
  }
  std::vector<PruneKey> candidates = collect_bin(segments, bin);
  auto less = [](PruneKey a, PruneKey b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); };
  std::nth_element(candidates.begin(), candidates.begin() + rank, candidates.end(), less);
  return candidates[rank];
}

void apply_cpu(std::vector<PruneSegment>& segments, PruneKey threshold) {
  for (PruneSegment& s : segments) {
    const float* w = s.weights.data<float>();
    float* m = s.mask.data<float>();
    const uint32_t base = static_cast<uint32_t>(s.base_index);
#pragma omp parallel for schedule(static) if (s.weights.numel() > 65536)
    for (int64_t i = 0; i < s.weights.numel(); ++i) m[i] = pruned_mask(m[i], w[i], base + static_cast<uint32_t>(i), threshold);
  }
}

}  // namespace

int64_t count_unpruned(const std::vector<PruneSegment>& segments) {
  int64_t total = 0;
  for (const PruneSegment& s : segments) {
    if (s.mask.device().is_cpu()) {
      const float* m = s.mask.data<float>();
#pragma omp parallel for reduction(+ : total) schedule(static) if (s.mask.numel() > 65536)
      for (int64_t i = 0; i < s.mask.numel(); ++i) total += m[i] != 0.0f ? 1 : 0;
    } else {
      for (float v : s.mask.to_vector<float>()) total += v != 0.0f ? 1 : 0;
    }
  }
  return total;
}

PruneKey find_prune_threshold(const std::vector<PruneSegment>& segments, int64_t count) {
  check_segments(segments);
  BMC_CHECK(count >= 1, "pruning: the number of weights to select must be positive, got ", count);
  if (segments.front().weights.device().is_cuda()) return BMC_DISPATCH_CUDA(find_prune_threshold_cuda(segments, count - 1));
  return find_threshold_cpu(segments, count - 1);
}

void prune_smallest(std::vector<PruneSegment>& segments, int64_t count) {
  if (count == 0) return;
  const PruneKey threshold = find_prune_threshold(segments, count);
  if (segments.front().weights.device().is_cuda()) return BMC_DISPATCH_CUDA(prune_apply_cuda(segments, threshold));
  apply_cpu(segments, threshold);
}

}  // namespace bmc::compress
