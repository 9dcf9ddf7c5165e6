// Top-k correct count: correct = number of rows whose label is among the top_k logits (tie and
// NaN rules in kernels/topk.cuh). One thread per row in a grid-stride loop (reads k floats and one
// label per row), a per-thread count, then one integer atomic per thread: integer addition is
// exact in any order, so the count is deterministic.
#include "kernels/device_compat.cuh"
#include "kernels/launch.cuh"
#include "kernels/topk.cuh"
#include "kernels/topk.h"

namespace bmc::BMC_KNS {
namespace {

constexpr int kTopkBlock = 128;

// --- kernels

__global__ void zero_count_kernel(unsigned* count) { count[0] = 0; }

__global__ void topk_count_kernel(unsigned* count, const float* logits, const int32_t* labels, int64_t n,
                                  int64_t k, int top_k) {
  unsigned mine = 0;
  BMC_GRID_STRIDE_LOOP(row, n) { mine += topk_row_correct(logits + row * k, k, labels[row], top_k) ? 1u : 0u; }
  if (mine > 0) atomic_add(count, mine);
}

}  // namespace

// --- launchers

void topk_correct(int32_t* correct, const float* logits, const int32_t* labels, int64_t n, int64_t k,
                  int top_k, StreamRef stream, int grid_limit) {
  // Counts are non-negative, so the i32 result is the same bits as an unsigned count.
  unsigned* count = reinterpret_cast<unsigned*>(correct);
  launch("zero_count_kernel", zero_count_kernel, 1u, 1u, stream, count);
  if (n == 0) return;
  launch("topk_count_kernel", topk_count_kernel, grid_for(n, kTopkBlock, grid_limit), kTopkBlock, stream,
         count, logits, labels, n, k, top_k);
}

}  // namespace bmc::BMC_KNS
