#!/usr/bin/env bash
# make gpu-check: on a machine with a CUDA device, build for its architecture, run every GPU test
# with BMC_REQUIRE_GPU=1 (a skip is a failure), run the kernel tests under compute-sanitizer when
# it is installed, and run the GPU benchmarks briefly. Without a GPU: one line, exit code 2.
# `scripts/gpu-check.sh --plan` (make gpu-check-plan) prints the stages and what each would run,
# counted from the CPU build, on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Our own kernels (shared-memory reductions, histograms, shuffles) for racecheck; the filter must
# match tests, or the sanitizer would pass having run nothing.
own_kernels='BsqGpu.*:LatticeqGpu.*:SparqGpu.*:LossGpu.*:MagnitudePruneGpu.*:FakeQuantGpu.*:MaskedSgdGpu.*:AdamGpu.*:ElementwiseGpu.*:SyncBatchNormGpu.*'
count_tests() { "$1" --gtest_list_tests --gtest_filter="$2" | grep -c '^  ' || true; }

if [ "${1:-}" = "--plan" ]; then
  make --no-print-directory build/bmc_tests >/dev/null 2>&1 || { echo "gpu-check: building build/bmc_tests failed" >&2; exit 1; }
  sanitizer=$(command -v compute-sanitizer || ls "${CUDA_HOME:-/usr/local/cuda}"/compute-sanitizer/compute-sanitizer 2>/dev/null || true)
  echo "gpu-check plan:"
  echo "  1. build for the device's compute capability (nvidia-smi) into build/gpu"
  echo "  2. GPU tests with BMC_REQUIRE_GPU=1: $(count_tests build/bmc_tests '*Gpu*') tests ('*Gpu*'), a skip fails"
  if [ -n "$sanitizer" ]; then
    echo "  3. compute-sanitizer memcheck on the same tests; racecheck on $(count_tests build/bmc_tests "$own_kernels") tests of our kernels"
  else
    echo "  3. SKIPPED sanitizer: compute-sanitizer is not installed here ($(count_tests build/bmc_tests "$own_kernels") kernel tests would run under racecheck)"
  fi
  echo "  4. GPU benchmarks: every BM_*/cuda of build/gpu/bmc_bench at --benchmark_min_time=0.1 (registered only when a device exists):"
  echo "     own kernels as % of device-to-device copy bandwidth; cifar_resnet_20 and mnist_lenet_300_100 training steps"
  echo "     op by op and replayed as one CUDA graph, with the epoch time (epoch_s) at that rate"
  echo "  5. one summary line with the time of each stage"
  exit 0
fi

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

matched=$(count_tests build/gpu/bmc_tests "$own_kernels")
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
