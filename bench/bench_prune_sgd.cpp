// Lottery-ticket kernels on the CPU backend: the global magnitude threshold (radix selection) and
// the fused masked SGD step, on ResNet-20-sized (0.27 M) and ResNet-18-sized (11.7 M) arenas, and
// the clamped step of trainable state (BSQ's planes).
// PyTorch references with the same names: bench/torch_prune_sgd.py (torch.kthvalue, 4-op SGD).
#include <benchmark/benchmark.h>

#include "compress/prune/magnitude.h"
#include "ops/sgd.h"
#include "kernels/philox.cuh"

namespace bmc {
namespace {

Tensor random_weights(int64_t n, uint64_t seed) {
  Tensor t({n});
  float* p = t.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = u32_to_unit_float(philox_u32(seed, i, 0, 0)) * 2.0f - 1.0f;
  return t;
}

void BM_global_threshold(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor w = random_weights(n, 1), mask = Tensor::full({n}, 1.0f);
  std::vector<compress::PruneSegment> segments;
  segments.push_back({w.slice(0, {n}), mask.slice(0, {n}), 0});
  const int64_t count = n / 5;
  for (auto _ : state) benchmark::DoNotOptimize(compress::find_prune_threshold(segments, count));
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_masked_sgd(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor w = random_weights(n, 2), g = random_weights(n, 3), m = Tensor::zeros({n}), mask = Tensor::full({n}, 1.0f);
  const SgdHyper h{0.01f, 0.9f, 1e-4f, false};
  for (auto _ : state) ops::masked_sgd_step(w, m, g, mask, h);
  state.SetBytesProcessed(state.iterations() * n * 24);
}

// The clamped update of BSQ's planes: the positive planes of every mnist_lenet_300_100 layer at 8
// bits (266,610 x 8 = 2.13 M).
void BM_clamped_sgd(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor w = random_weights(n, 4), g = random_weights(n, 5), m = Tensor::zeros({n});
  const SgdHyper h{0.01f, 0.9f, 0.0f, false};
  for (auto _ : state) ops::clamped_sgd_step(w, m, g, h, 0.0f, 2.0f);
  state.SetBytesProcessed(state.iterations() * n * 20);
}

BENCHMARK(BM_global_threshold)->Name("BM_global_threshold/cpu")->Arg(270000)->Arg(11700000)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_masked_sgd)->Name("BM_masked_sgd/cpu")->Arg(270000)->Arg(11700000)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_clamped_sgd)->Name("BM_clamped_sgd/cpu")->Arg(2132880)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bmc
