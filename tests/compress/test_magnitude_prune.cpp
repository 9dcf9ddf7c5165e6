// Magnitude pruning: exact counts with ties, the documented tie rule, masks only shrink, CPU vs a
// brute-force sort, CPU vs the emulated radix-select kernels (bitwise), and GPU parity.
#define BMC_KNS kernels_emu
#include "kernels/prune.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compress/prune/magnitude.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

using compress::PruneSegment;

// Two layers of one arena: [0, 40) and [50, 150) (a gap as for biases in between).
struct TwoLayers {
  Tensor arena_w, arena_m;
  std::vector<PruneSegment> segments;

  explicit TwoLayers(Tensor w) : arena_w(std::move(w)), arena_m(Tensor::full({150}, 1.0f)) {
    segments.push_back({arena_w.slice(0, {40}), arena_m.slice(0, {40}), 0});
    segments.push_back({arena_w.slice(50, {10, 10}), arena_m.slice(50, {10, 10}), 50});
  }
};

// Oracle: sort (|w|, index) of unpruned prunable elements, remove the first `count`.
std::vector<float> brute_force_mask(const TwoLayers& t, int64_t count) {
  std::vector<std::pair<uint32_t, uint32_t>> keys;
  auto mask = t.arena_m.to_vector<float>();
  const auto w = t.arena_w.to_vector<float>();
  for (uint32_t i = 0; i < 150; ++i)
    if ((i < 40 || i >= 50) && mask[i] != 0) keys.push_back({magnitude_bits(w[i]), i});
  std::sort(keys.begin(), keys.end());
  for (int64_t j = 0; j < count; ++j) mask[keys[j].second] = 0;
  return mask;
}

int64_t ones(const Tensor& m) {
  const auto v = m.to_vector<float>();
  return std::count(v.begin(), v.end(), 1.0f);
}

TEST(MagnitudePrune, RemovesExactlyCountMatchingBruteForce) {
  TwoLayers t(test::random_uniform({150}, 7));
  for (int64_t count : {1, 17, 60}) {
    const auto expected = brute_force_mask(t, count);
    const int64_t before = compress::count_unpruned(t.segments);
    compress::prune_smallest(t.segments, count);
    EXPECT_EQ(compress::count_unpruned(t.segments), before - count);
    EXPECT_EQ(t.arena_m.to_vector<float>(), expected);
  }
}

TEST(MagnitudePrune, TiesGoToTheLowerIndexAndSignDoesNotMatter) {
  std::vector<float> w(150, 0.5f);
  w[3] = -0.5f;   // same magnitude as everything else
  w[60] = 0.25f;  // the single smallest
  TwoLayers t(Tensor::from_vector<float>(w, {150}));
  compress::prune_smallest(t.segments, 3);
  const auto m = t.arena_m.to_vector<float>();
  EXPECT_EQ(m[60], 0.0f);
  EXPECT_EQ(m[0], 0.0f);
  EXPECT_EQ(m[1], 0.0f);
  EXPECT_EQ(m[2], 1.0f);
  EXPECT_EQ(m[3], 1.0f);
  EXPECT_EQ(m[45], 1.0f) << "elements outside the segments are never touched";
}

TEST(MagnitudePrune, NanCountsAsLargestAndMasksOnlyShrink) {
  Tensor w = test::random_uniform({150}, 9);
  w.data<float>()[5] = std::nanf("");
  TwoLayers t(std::move(w));
  t.arena_m.data<float>()[7] = 0;  // already pruned: must stay pruned, never counted
  const int64_t unpruned = compress::count_unpruned(t.segments);
  EXPECT_EQ(unpruned, 139);
  compress::prune_smallest(t.segments, unpruned - 1);
  EXPECT_EQ(t.arena_m.to_vector<float>()[5], 1.0f);
  EXPECT_EQ(t.arena_m.to_vector<float>()[7], 0.0f);
  EXPECT_EQ(ones(t.arena_m), 1 + 10) << "NaN survives, the 10 non-segment elements keep their ones";
}

TEST(MagnitudePrune, IterativeTwentyPercentFollowsTheCountRecurrence) {
  TwoLayers t(test::random_uniform({150}, 11));
  int64_t remaining = 140;
  for (int level = 0; level < 8; ++level) {
    const int64_t count = static_cast<int64_t>(std::ceil(0.2 * remaining));
    compress::prune_smallest(t.segments, count);
    remaining -= count;
    EXPECT_EQ(compress::count_unpruned(t.segments), remaining) << "level " << level;
  }
}

TEST(MagnitudePrune, RejectsImpossibleCounts) {
  TwoLayers t(test::random_uniform({150}, 12));
  EXPECT_THROW(compress::find_prune_threshold(t.segments, 0), Error);
  EXPECT_THROW(compress::find_prune_threshold(t.segments, 141), Error);
  std::vector<PruneSegment> none;
  EXPECT_THROW(compress::prune_smallest(none, 1), Error);
}

// Runs the kernels' radix selection and apply under the host emulator.
void prune_with_emulated_kernels(std::vector<PruneSegment>& segments, int64_t count, int grid_limit,
                                 PruneKey* threshold_out) {
  std::vector<uint32_t> counts(kPruneBins, 0);
  PruneKey prefix{};
  int64_t state[2] = {count - 1, 0};
  for (int pass = 0; pass < kPrunePasses; ++pass) {
    for (PruneSegment& s : segments)
      kernels_emu::prune_histogram(counts.data(), s.weights.data<float>(), s.mask.data<float>(), s.weights.numel(),
                                   static_cast<uint32_t>(s.base_index), pass, &prefix, nullptr, grid_limit);
    kernels_emu::prune_select_bin(counts.data(), &prefix, state, pass, nullptr);
  }
  EXPECT_EQ(state[1], compress::count_unpruned(segments));
  *threshold_out = prefix;
  for (PruneSegment& s : segments)
    kernels_emu::prune_apply(s.mask.data<float>(), s.weights.data<float>(), s.weights.numel(),
                             static_cast<uint32_t>(s.base_index), prefix, nullptr, grid_limit);
}

TEST(MagnitudePruneKernelEmu, ThresholdAndMasksBitwiseEqualToCpu) {
  std::vector<float> values = test::random_uniform({150}, 13).to_vector<float>();
  for (int i = 0; i < 150; i += 9) values[i] = 0.125f;  // plenty of ties
  for (int grid_limit : {1, 2, 5, 0}) {
    for (int64_t count : {1, 30, 90}) {
      TwoLayers cpu(Tensor::from_vector<float>(values, {150})), emu(Tensor::from_vector<float>(values, {150}));
      const PruneKey expected = compress::find_prune_threshold(cpu.segments, count);
      compress::prune_smallest(cpu.segments, count);
      PruneKey got;
      prune_with_emulated_kernels(emu.segments, count, grid_limit, &got);
      EXPECT_EQ(got.hi, expected.hi);
      EXPECT_EQ(got.lo, expected.lo);
      EXPECT_TRUE(test::bitwise_equal(emu.arena_m, cpu.arena_m)) << "grid " << grid_limit << " count " << count;
    }
  }
}

TEST(MagnitudePruneGpu, ThresholdAndMasksBitwiseEqualToCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const int64_t n = 300001;
  Tensor w = test::random_uniform({n}, 14);
  for (int64_t i = 0; i < n; i += 101) w.data<float>()[i] = 0.5f;
  Tensor m_cpu = Tensor::full({n}, 1.0f);
  Tensor gw = w.to(gpu), m_gpu = m_cpu.to(gpu);
  std::vector<PruneSegment> cpu, gpu_segments;
  cpu.push_back({w.slice(0, {n}), m_cpu.slice(0, {n}), 0});
  gpu_segments.push_back({gw.slice(0, {n}), m_gpu.slice(0, {n}), 0});
  for (int level = 0; level < 3; ++level) {
    const int64_t count = compress::count_unpruned(cpu) / 5;
    const PruneKey a = compress::find_prune_threshold(cpu, count), b = compress::find_prune_threshold(gpu_segments, count);
    EXPECT_EQ(a.hi, b.hi);
    EXPECT_EQ(a.lo, b.lo);
    compress::prune_smallest(cpu, count);
    compress::prune_smallest(gpu_segments, count);
    EXPECT_TRUE(test::bitwise_equal(m_gpu, m_cpu)) << "level " << level;
  }
}

}  // namespace
}  // namespace bmc
