#!/usr/bin/env bash
# make gpu-check: on a machine with a CUDA device, build for its architecture, run every GPU test
# with BMC_REQUIRE_GPU=1 (a skip is a failure), run the kernel tests under compute-sanitizer when
# it is installed, and run the GPU benchmarks briefly. Without a GPU: one line, exit code 2.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no CUDA device on this machine (nvidia-smi finds none); run it where a GPU is present" >&2
  exit 2
fi
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d '.')
arch="-gencode arch=compute_${cc},code=sm_${cc}"
echo "gpu-check: building for sm_${cc}"
make BUILD=build/gpu CUDA_ARCH="$arch" all

export BMC_REQUIRE_GPU=1
echo "gpu-check: GPU tests (BMC_REQUIRE_GPU=1)"
build/gpu/bmc_tests --gtest_filter='*Gpu*'

sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null || true)
if [ -n "$sanitizer" ]; then
  echo "gpu-check: GPU tests under compute-sanitizer memcheck"
  "$sanitizer" --tool memcheck --error-exitcode 1 build/gpu/bmc_tests --gtest_filter='*Gpu*'
  echo "gpu-check: racecheck on the shared-memory kernels"
  "$sanitizer" --tool racecheck --error-exitcode 1 build/gpu/bmc_tests --gtest_filter='*Gpu*Kernel*:*KernelGpu*'
else
  echo "gpu-check: compute-sanitizer not installed; memcheck/racecheck skipped"
fi

echo "gpu-check: GPU benchmarks"
build/gpu/bmc_bench --benchmark_filter='/cuda' --benchmark_min_time=0.1
