// Fake quantization throughput on the CPU backend (GB/s: 8 bytes per element), per tensor and per
// channel, on 11.7 M values (ResNet-18's weight count). PyTorch reference with the same names:
// bench/torch_fake_quant.py (torch.fake_quantize_per_tensor_affine / _per_channel_affine).
#include <benchmark/benchmark.h>

#include "kernels/philox.cuh"
#include "ops/fake_quant.h"

namespace bmc {
namespace {

constexpr int64_t kChannels = 1000;

Tensor random_values(int64_t n) {
  Tensor t({n});
  float* p = t.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = u32_to_unit_float(philox_u32(5, i, 0, 0)) * 4.0f - 2.0f;
  return t;
}

void BM_fake_quant_per_tensor(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Tensor x = random_values(n);
  Tensor y({n});
  const std::vector<QuantParams> params = {symmetric_params(8, 2.0f)};
  for (auto _ : state) ops::fake_quant_forward(y, x, params);
  state.SetBytesProcessed(state.iterations() * n * 8);
}

void BM_fake_quant_per_channel(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Tensor x = random_values(n).view({kChannels, n / kChannels});
  Tensor y({kChannels, n / kChannels});
  const std::vector<QuantParams> params(kChannels, asymmetric_params(8, -2.0f, 2.0f, false));
  for (auto _ : state) ops::fake_quant_forward(y, x, params, 0);
  state.SetBytesProcessed(state.iterations() * n * 8);
}

BENCHMARK(BM_fake_quant_per_tensor)->Name("BM_fake_quant_per_tensor/cpu")->Arg(11700000)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fake_quant_per_channel)->Name("BM_fake_quant_per_channel/cpu")->Arg(11700000)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bmc
