// Our CUDA kernels judged against the device's measured memory bandwidth (a device-to-device
// cudaMemcpy of the same footprint, timed in the same run): masked SGD (24 B/elem), fake-quant
// (8 B/elem), the magnitude-pruning threshold (4 histogram passes over w and mask, 32 B/elem) and
// BSQ's bit-plane forward, backward, regularizer and activation quantizer, Adam (36 B/elem), and
// LatticeQ's quantizer (8 B/elem) and search step (reads the layer once, 4 B/weight: one launch
// per proposal for every channel; compute-bound, its GB/s says how far from the memory bound),
// and synchronised batch norm's forward and backward (40 B/elem).
// Registered only when a CUDA device exists; each reports GB/s and "pct_of_memcpy".
#include <benchmark/benchmark.h>

#include "core/device.h"

#if BMC_HAS_CUDA
#include <cuda_runtime_api.h>

#include "bench/gpu_timing.h"
#include "compress/prune/magnitude.h"
#include "core/cuda_context.h"
#include "compress/latticeq/lattice_search.h"
#include "ops/adam.h"
#include "ops/batch_norm.h"
#include "ops/bsq.h"
#include "ops/lattice.h"
#include "ops/fake_quant.h"
#include "ops/sgd.h"

namespace {

using bmc::Device;
using bmc::DType;
using bmc::Tensor;

constexpr int64_t kElements = 11'700'000;  // ResNet-18's weights

template <class Body>
void time_on_device(benchmark::State& state, Device device, Body body) {
  bmc::bench::time_on_device(state, device, body, true);
}

// Device-to-device copy bandwidth (bytes read + written per second), measured once per run.
double memcpy_bandwidth(Device device) {
  static const double bandwidth = [device] {
    Tensor a = Tensor::zeros({kElements * 4}, DType::F32, device), b = Tensor::zeros({kElements * 4}, DType::F32, device);
    auto& ctx = bmc::cuda::context(device);
    bmc::cuda::Event start = bmc::cuda::make_event(), stop = bmc::cuda::make_event();
    BMC_CUDA_CHECK(cudaMemcpyAsync(b.raw(), a.raw(), a.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream));
    BMC_CUDA_CHECK(cudaEventRecord(start, ctx.stream));
    for (int i = 0; i < 10; ++i)
      BMC_CUDA_CHECK(cudaMemcpyAsync(b.raw(), a.raw(), a.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream));
    BMC_CUDA_CHECK(cudaEventRecord(stop, ctx.stream));
    BMC_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    BMC_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return 10.0 * 2.0 * static_cast<double>(a.nbytes()) / (ms / 1e3);
  }();
  return bandwidth;
}

void report(benchmark::State& state, Device device, double bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes_per_iteration));
  state.counters["pct_of_memcpy"] = benchmark::Counter(100.0 * bytes_per_iteration / memcpy_bandwidth(device),
                                                       benchmark::Counter::kIsIterationInvariantRate);
}

void BM_memcpy_d2d(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor a = Tensor::zeros({kElements}, DType::F32, device), b = Tensor::zeros({kElements}, DType::F32, device);
  auto& ctx = bmc::cuda::context(device);
  time_on_device(state, device, [&] {
    BMC_CUDA_CHECK(cudaMemcpyAsync(b.raw(), a.raw(), a.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream));
  });
  report(state, device, 8.0 * kElements);
}

void BM_masked_sgd_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor w = Tensor::full({kElements}, 0.5f, device), m = Tensor::zeros({kElements}, DType::F32, device);
  Tensor g = Tensor::full({kElements}, 0.1f, device), mask = Tensor::full({kElements}, 1.0f, device);
  time_on_device(state, device, [&] { bmc::ops::masked_sgd_step(w, m, g, mask, {0.01f, 0.9f, 1e-4f, false}); });
  report(state, device, 24.0 * kElements);
}

void BM_fake_quant_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor x = Tensor::full({kElements}, 0.3f, device), y({kElements}, DType::F32, device);
  const std::vector<bmc::QuantParams> params = {bmc::symmetric_params(8, 1.0f)};
  time_on_device(state, device, [&] { bmc::ops::fake_quant_forward(y, x, params); });
  report(state, device, 8.0 * kElements);
}

void BM_global_threshold_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor w = Tensor::full({kElements}, 0.5f, device), mask = Tensor::full({kElements}, 1.0f, device);
  std::vector<bmc::compress::PruneSegment> segments;
  segments.push_back({w.slice(0, {kElements}), mask.slice(0, {kElements}), 0});
  time_on_device(state, device, [&] { benchmark::DoNotOptimize(bmc::compress::find_prune_threshold(segments, kElements / 5)); });
  report(state, device, 32.0 * kElements);
}

// BSQ on ResNet-18's largest layer at 8 bits (bench/bench_bsq.cpp gives the byte counts).
constexpr int64_t kBsqWeights = 512 * 512 * 9;
constexpr int kBsqBits = 8;

void BM_bsq_forward_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor p = Tensor::full({kBsqBits, kBsqWeights}, 0.5f, device), q = Tensor::full({kBsqBits, kBsqWeights}, 0.25f, device);
  Tensor s = Tensor::full({1}, 0.1f, device), w({kBsqWeights}, DType::F32, device);
  time_on_device(state, device, [&] { bmc::ops::bsq_forward(w, p, q, s); });
  report(state, device, (8.0 * kBsqBits + 4) * kBsqWeights);
}

void BM_bsq_backward_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor p = Tensor::full({kBsqBits, kBsqWeights}, 0.5f, device), q = Tensor::full({kBsqBits, kBsqWeights}, 0.25f, device);
  Tensor dp = Tensor::zeros({kBsqBits, kBsqWeights}, DType::F32, device), dq = Tensor::zeros({kBsqBits, kBsqWeights}, DType::F32, device);
  Tensor g = Tensor::full({kBsqWeights}, 0.01f, device), s = Tensor::full({1}, 0.1f, device);
  Tensor ds = Tensor::zeros({1}, DType::F32, device), coef = Tensor::full({kBsqBits}, 1e-4f, device);
  time_on_device(state, device, [&] { bmc::ops::bsq_backward(dp, dq, ds, g, nullptr, p, q, s, coef, true); });
  report(state, device, (4.0 + 24.0 * kBsqBits) * kBsqWeights);
}

void BM_bsq_regularizer_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor p = Tensor::full({kBsqBits, kBsqWeights}, 0.5f, device), q = Tensor::full({kBsqBits, kBsqWeights}, 0.25f, device);
  Tensor coef({kBsqBits}, DType::F32, device), value({1}, DType::F32, device);
  time_on_device(state, device, [&] { bmc::ops::bsq_regularizer(coef, value, p, q, 0.01f); });
  report(state, device, 8.0 * kBsqBits * kBsqWeights);
}

void BM_bsq_act_quant_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor x = Tensor::full({kElements}, 0.3f, device), y({kElements}, DType::F32, device), clip = Tensor::full({1}, 6.0f, device);
  time_on_device(state, device, [&] { bmc::ops::bsq_act_forward(y, x, clip, 4); });
  report(state, device, 12.0 * kElements);
}

void BM_adam_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  Tensor w = Tensor::full({kElements}, 0.1f, device), m = Tensor::zeros({kElements}, DType::F32, device);
  Tensor v = Tensor::zeros({kElements}, DType::F32, device), x = Tensor::zeros({kElements}, DType::F32, device);
  Tensor g = Tensor::full({kElements}, 0.01f, device);
  bmc::AdamHyper h;
  h.amsgrad = true;
  time_on_device(state, device, [&] { bmc::ops::adam_step(w, m, v, x, g, h); });
  report(state, device, 36.0 * kElements);
}

// LatticeQ on ResNet-18's largest layer: 512 channels of 512 x 3 x 3, n = 3, 4 bits, per channel.
bmc::LatticeSearchShape lattice_layer() {
  bmc::LatticeSearchShape s;
  s.channels = 512;
  s.per = 512 * 9;
  s.n = 3;
  s.bits = 4;
  return s;
}

void BM_lattice_quantize_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  const bmc::LatticeSearchShape s = lattice_layer();
  Tensor w = Tensor::full({s.channels, s.per}, 0.3f, device), out({s.channels, s.per}, DType::F32, device);
  Tensor b = Tensor::from_vector(bmc::compress::lattice_uniform_bases(s), {s.channels, 3, 3}, device);
  time_on_device(state, device, [&] { bmc::ops::lattice_quantize(out, nullptr, w, b, 1.0f, s); });
  report(state, device, 8.0 * s.channels * s.per);
}

void BM_lattice_search_step_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  const bmc::LatticeSearchShape s = lattice_layer();
  Tensor wn = Tensor::full({s.channels, s.per}, 0.3f, device), norms = Tensor::zeros({s.channels}, DType::F32, device);
  Tensor b = Tensor::from_vector(bmc::compress::lattice_uniform_bases(s), {s.channels, 3, 3}, device);
  Tensor losses({s.channels}, DType::F32, device), best({s.channels}, DType::F32, device);
  bmc::ops::lattice_losses(losses, best, b, wn, norms, s);
  uint32_t step = 0;
  time_on_device(state, device, [&] {
    bmc::ops::lattice_search_step(b, best, losses, wn, norms, s, bmc::LatticeNoise{1, 0, step++, 0.01f});
  });
  report(state, device, 4.0 * s.channels * s.per);
}

// Synchronised batch norm's kernels, forward and backward on one shard (the cross-shard sums a
// no-op): sums 4 B, squares 4 B, normalise 8 B; backward sums 12 B (dy twice, x), input gradient
// 12 B: 40 B per element.
void BM_sync_batch_norm_cuda(benchmark::State& state) {
  const Device device = Device::cuda(0);
  const bmc::Shape shape{128, 64, 32, 32};
  const bmc::ops::CrossShardSum alone{[](double*, int64_t) {}, [](Tensor&) {}};
  Tensor x = Tensor::full(shape, 0.3f, device), dy = Tensor::full(shape, 0.1f, device), y(shape, DType::F32, device);
  Tensor dx(shape, DType::F32, device), gamma = Tensor::full({64}, 1.0f, device), beta = Tensor::zeros({64}, DType::F32, device);
  Tensor mean({64}, DType::F32, device), invstd({64}, DType::F32, device), rm = Tensor::zeros({64}, DType::F32, device);
  Tensor rv = Tensor::full({64}, 1.0f, device), dg = Tensor::zeros({64}, DType::F32, device), db = Tensor::zeros({64}, DType::F32, device);
  time_on_device(state, device, [&] {
    bmc::ops::batch_norm_forward_train(y, mean, invstd, x, gamma, beta, rm, rv, 0.1f, 1e-5f, &alone);
    bmc::ops::batch_norm_backward(dx, dg, db, dy, x, gamma, mean, invstd, 1e-5f, &alone);
  });
  report(state, device, 40.0 * static_cast<double>(x.numel()));
}

bool register_gpu_kernel_benchmarks() {
  if (bmc::cuda_device_count() == 0) return false;
  using Bench = void (*)(benchmark::State&);
  const std::pair<const char*, Bench> benches[] = {{"BM_memcpy_d2d/cuda/11700000", BM_memcpy_d2d},
                                                    {"BM_masked_sgd/cuda/11700000", BM_masked_sgd_cuda},
                                                    {"BM_fake_quant/cuda/11700000", BM_fake_quant_cuda},
                                                    {"BM_global_threshold/cuda/11700000", BM_global_threshold_cuda},
                                                    {"BM_bsq_forward/cuda/2359296x8", BM_bsq_forward_cuda},
                                                    {"BM_bsq_backward/cuda/2359296x8", BM_bsq_backward_cuda},
                                                    {"BM_bsq_regularizer/cuda/2359296x8", BM_bsq_regularizer_cuda},
                                                    {"BM_bsq_act_quant/cuda/11700000", BM_bsq_act_quant_cuda},
                                                    {"BM_adam/cuda/11700000", BM_adam_cuda},
                                                    {"BM_lattice_quantize/cuda/2359296", BM_lattice_quantize_cuda},
                                                    {"BM_lattice_search_step/cuda/2359296", BM_lattice_search_step_cuda},
                                                    {"BM_sync_batch_norm/cuda/128x64x32x32", BM_sync_batch_norm_cuda}};
  for (const auto& [name, fn] : benches)
    benchmark::RegisterBenchmark(name, fn)->UseManualTime()->Unit(benchmark::kMicrosecond);
  return true;
}

const bool registered = register_gpu_kernel_benchmarks();

}  // namespace
#endif
