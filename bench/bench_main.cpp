// bmc_bench entry point: Google Benchmark with a header naming the machine, and GPU benchmarks
// registered only when a CUDA device exists (one line says so otherwise).
#include <benchmark/benchmark.h>

#include <cstdio>

#include "core/device.h"
#include "core/system_info.h"

int main(int argc, char** argv) {
  const bmc::SystemInfo info = bmc::system_info();
  std::printf("bmc_bench: %d CPU threads, BLAS %s\n", info.cpu_threads, info.blas.c_str());
  if (bmc::cuda_device_count() == 0)
    std::printf("bmc_bench: GPU benchmarks not registered: %s\n", bmc::cuda_unavailable_reason().c_str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
