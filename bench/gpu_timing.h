// Device timing for the GPU benchmarks: `body` queued on the device's stream between two CUDA
// events, once per iteration (manual time), after a warm-up call; optionally L2 is flushed before
// each iteration by writing a buffer larger than it, so DRAM bandwidth is what is measured.
// Returns the mean seconds per iteration. CUDA builds only.
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include "core/cuda_context.h"
#include "core/tensor.h"

namespace bmc::bench {

template <class Body>
double time_on_device(benchmark::State& state, Device device, Body body, bool flush_l2) {
  auto& ctx = cuda::context(device);
  Tensor flush = flush_l2 ? Tensor::zeros({64 << 20}, DType::U8, device) : Tensor();
  cuda::Event start = cuda::make_event(), stop = cuda::make_event();
  body();  // warm-up (plans, pool)
  double total = 0;
  for (auto _ : state) {
    if (flush_l2) BMC_CUDA_CHECK(cudaMemsetAsync(flush.raw(), 0, flush.nbytes(), ctx.stream));
    BMC_CUDA_CHECK(cudaEventRecord(start, ctx.stream));
    body();
    BMC_CUDA_CHECK(cudaEventRecord(stop, ctx.stream));
    BMC_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    BMC_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
    total += ms / 1e3;
  }
  return state.iterations() > 0 ? total / static_cast<double>(state.iterations()) : 0.0;
}

}  // namespace bmc::bench
