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
skipped=()
stage_start=$SECONDS
stage() { echo "gpu-check: $1 ($((SECONDS - stage_start)) s so far)"; }
stage "GPU tests (BMC_REQUIRE_GPU=1)"
build/gpu/bmc_tests --gtest_filter='*Gpu*'

# Our own kernels (shared-memory reductions, histograms, shuffles) for racecheck; the filter must
# match tests, or the sanitizer would pass having run nothing.
own_kernels='BsqGpu.*:LatticeqGpu.*:SparqGpu.*:LossGpu.*:MagnitudePruneGpu.*:FakeQuantGpu.*:MaskedSgdGpu.*:AdamGpu.*:ElementwiseGpu.*:SyncBatchNormGpu.*'
matched=$(build/gpu/bmc_tests --gtest_list_tests --gtest_filter="$own_kernels" | grep -c '^  ' || true)
if [ "$matched" -eq 0 ]; then
  echo "gpu-check: the racecheck filter matches no test" >&2
  exit 1
fi
sanitizer=$(command -v compute-sanitizer || ls "${CUDA_HOME:-/usr/local/cuda}"/compute-sanitizer/compute-sanitizer 2>/dev/null || true)
if [ -n "$sanitizer" ]; then
  stage "GPU tests under compute-sanitizer memcheck"
  "$sanitizer" --tool memcheck --error-exitcode 1 build/gpu/bmc_tests --gtest_filter='*Gpu*'
  stage "racecheck on our kernels ($matched tests)"
  "$sanitizer" --tool racecheck --error-exitcode 1 build/gpu/bmc_tests --gtest_filter="$own_kernels"
else
  echo "gpu-check: SKIPPED sanitizer: compute-sanitizer is not installed (memcheck and racecheck did not run)"
  skipped+=("sanitizer")
fi

stage "GPU benchmarks"
build/gpu/bmc_bench --benchmark_filter='/cuda' --benchmark_min_time=0.1
echo "gpu-check: done in $((SECONDS - stage_start)) s; skipped stages: ${#skipped[@]}${skipped:+ (${skipped[*]})}"
