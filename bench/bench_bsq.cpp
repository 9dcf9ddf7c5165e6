// BSQ's bit-plane ops on the CPU backend against the memory traffic they must move, on ResNet-18's
// largest layer (512 x 512 x 3 x 3 = 2,359,296 weights) at 8 bits, plane-major: forward reads
// 2 x 8 planes and writes the weight (68 B per weight), backward reads g and the planes and
// updates both plane gradients (196 B), the regularizer reads the planes (64 B), the forward with
// the regularizer reads them once for both (68 B), the fine-tuning latent's forward reads u and
// writes w (8 B) and its backward reads g and u and updates du (16 B), the activation quantizer
// reads for the max then reads and writes (12 B per value). BM_memcpy/cpu is the same-run
// bandwidth reference (8 B per float: read + write).
#include <benchmark/benchmark.h>

#include <cstring>

#include "kernels/philox.cuh"
#include "ops/bsq.h"

namespace bmc {
namespace {

constexpr int64_t kWeights = 512 * 512 * 9;
constexpr int kBits = 8;

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  Tensor t(shape);
  float* p = t.data<float>();
  const int64_t n = t.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = lo + (hi - lo) * u32_to_unit_float(philox_u32(seed, i, 0, 0));
  return t;
}

void BM_memcpy(benchmark::State& state) {
  const Tensor a = random_tensor({kWeights * kBits}, 1, 0.0f, 1.0f);
  Tensor b({kWeights * kBits});
  for (auto _ : state) {
    std::memcpy(b.raw(), a.raw(), a.nbytes());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 8 * kWeights * kBits);
}

void BM_bsq_forward(benchmark::State& state) {
  const Tensor p = random_tensor({kBits, kWeights}, 2, 0.0f, 2.0f), q = random_tensor({kBits, kWeights}, 3, 0.0f, 2.0f);
  const Tensor s = Tensor::full({1}, 0.1f);
  Tensor w({kWeights});
  for (auto _ : state) ops::bsq_forward(w, p, q, s);
  state.SetBytesProcessed(state.iterations() * (8 * kBits + 4) * kWeights);
}

void BM_bsq_backward(benchmark::State& state) {
  const Tensor p = random_tensor({kBits, kWeights}, 2, 0.0f, 2.0f), q = random_tensor({kBits, kWeights}, 3, 0.0f, 2.0f);
  const Tensor g = random_tensor({kWeights}, 4, -1.0f, 1.0f), s = Tensor::full({1}, 0.1f);
  Tensor dp = Tensor::zeros({kBits, kWeights}), dq = Tensor::zeros({kBits, kWeights}), ds = Tensor::zeros({1});
  const Tensor coef = Tensor::full({kBits}, 1e-4f);
  for (auto _ : state) ops::bsq_backward(dp, dq, ds, g, nullptr, p, q, s, coef, true);
  state.SetBytesProcessed(state.iterations() * (4 + 8 * kBits + 16 * kBits) * kWeights);
}

void BM_bsq_regularizer(benchmark::State& state) {
  const Tensor p = random_tensor({kBits, kWeights}, 2, 0.0f, 2.0f), q = random_tensor({kBits, kWeights}, 3, 0.0f, 2.0f);
  Tensor coef({kBits}), value({1});
  for (auto _ : state) ops::bsq_regularizer(coef, value, p, q, 0.01f);
  state.SetBytesProcessed(state.iterations() * 8 * kBits * kWeights);
}

void BM_bsq_forward_regularized(benchmark::State& state) {
  const Tensor p = random_tensor({kBits, kWeights}, 2, 0.0f, 2.0f), q = random_tensor({kBits, kWeights}, 3, 0.0f, 2.0f);
  const Tensor s = Tensor::full({1}, 0.1f);
  Tensor w({kWeights}), coef({kBits}), value({1});
  for (auto _ : state) ops::bsq_forward_regularized(w, coef, value, p, q, s, 0.01f);
  state.SetBytesProcessed(state.iterations() * (8 * kBits + 4) * kWeights);
}

void BM_bsq_latent_forward(benchmark::State& state) {
  const Tensor u = random_tensor({kWeights}, 6, -1.2f, 1.2f), s = Tensor::full({1}, 0.1f);
  Tensor w({kWeights});
  for (auto _ : state) ops::bsq_latent_forward(w, u, s, kBits);
  state.SetBytesProcessed(state.iterations() * 8 * kWeights);
}

void BM_bsq_latent_backward(benchmark::State& state) {
  const Tensor u = random_tensor({kWeights}, 6, -1.2f, 1.2f), g = random_tensor({kWeights}, 7, -1.0f, 1.0f);
  const Tensor s = Tensor::full({1}, 0.1f);
  Tensor du = Tensor::zeros({kWeights}), ds = Tensor::zeros({1});
  for (auto _ : state) ops::bsq_latent_backward(du, ds, g, u, s, kBits);
  state.SetBytesProcessed(state.iterations() * 16 * kWeights);
}

void BM_bsq_act_quant(benchmark::State& state) {
  const Tensor x = random_tensor({kWeights}, 5, 0.0f, 8.0f), clip = Tensor::full({1}, 6.0f);
  Tensor y({kWeights});
  for (auto _ : state) ops::bsq_act_forward(y, x, clip, 4);
  state.SetBytesProcessed(state.iterations() * 12 * kWeights);
}

BENCHMARK(BM_memcpy)->Name("BM_memcpy/cpu/18874368")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_forward)->Name("BM_bsq_forward/cpu/2359296x8")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_backward)->Name("BM_bsq_backward/cpu/2359296x8")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_regularizer)->Name("BM_bsq_regularizer/cpu/2359296x8")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_forward_regularized)
    ->Name("BM_bsq_forward_regularized/cpu/2359296x8")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_latent_forward)->Name("BM_bsq_latent_forward/cpu/2359296")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_latent_backward)->Name("BM_bsq_latent_backward/cpu/2359296")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bsq_act_quant)->Name("BM_bsq_act_quant/cpu/2359296")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bmc
