// LatticeQ on the CPU backend, on ResNet-18's largest layer (512 channels of 512 x 3 x 3 =
// 2,359,296 weights, n = 3, 4 bits, a basis per channel): the quantizer (reads and writes 8 B per
// weight) and one search proposal for every channel (reads the layer once, 4 B per weight; with
// the bias correction in the loss, four passes). A proposal is compute-bound (a Gram-Schmidt per
// channel, a nearest-plane rounding per vector); items/s counts weights scored.
#include <benchmark/benchmark.h>

#include "compress/latticeq/lattice_search.h"
#include "kernels/philox.cuh"
#include "ops/lattice.h"

namespace bmc {
namespace {

LatticeSearchShape layer(bool correct) {
  LatticeSearchShape s;
  s.channels = 512;
  s.per = 512 * 9;
  s.n = 3;
  s.bits = 4;
  s.correct = correct;
  return s;
}

Tensor weights(const LatticeSearchShape& s) {
  Tensor t({s.channels, s.per});
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = 2.0f * u32_to_unit_float(philox_u32(3, i, 0, 0)) - 1.0f;
  return t;
}

void BM_lattice_quantize(benchmark::State& state) {
  const LatticeSearchShape s = layer(false);
  const Tensor w = weights(s);
  const Tensor b = Tensor::from_vector(compress::lattice_uniform_bases(s), {s.channels, 3, 3});
  Tensor out({s.channels, s.per});
  for (auto _ : state) ops::lattice_quantize(out, nullptr, w, b, 1.0f, s);
  state.SetBytesProcessed(state.iterations() * 8 * s.channels * s.per);
  state.SetItemsProcessed(state.iterations() * s.channels * s.per);
}

void BM_lattice_search_step(benchmark::State& state) {
  const LatticeSearchShape s = layer(state.range(0) != 0);
  const Tensor wn = weights(s);
  const Tensor norms = Tensor::from_vector(ops::lattice_centered_norms(wn, s.channels), {s.channels});
  Tensor b = Tensor::from_vector(compress::lattice_uniform_bases(s), {s.channels, 3, 3});
  Tensor losses({s.channels}), best({s.channels});
  ops::lattice_losses(losses, best, b, wn, norms, s);
  uint32_t step = 0;
  for (auto _ : state) ops::lattice_search_step(b, best, losses, wn, norms, s, LatticeNoise{1, 0, step++, 0.01f});
  state.SetBytesProcessed(state.iterations() * 4 * s.channels * s.per);
  state.SetItemsProcessed(state.iterations() * s.channels * s.per);
}

BENCHMARK(BM_lattice_quantize)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lattice_search_step)->Arg(0)->Arg(1)->ArgName("bias_corr")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bmc
