// The host emulator itself: grid/block indexing, barrier semantics and launch validation.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "kernels/emu/emu.h"

namespace bmc {
namespace {

TEST(Emu, EveryThreadOfEveryBlockRunsOnceWithItsIndices) {
  std::vector<int> hits(3 * 2 * 5 * 4, 0);
  emu::run_grid(dim3(3, 2), dim3(5, 4), [&] {
    const unsigned block = blockIdx.x + gridDim.x * blockIdx.y;
    const unsigned thread = threadIdx.x + blockDim.x * threadIdx.y;
    ++hits[block * 20 + thread];
  });
  for (int h : hits) EXPECT_EQ(h, 1);
}

TEST(Emu, SyncthreadsIsABarrierAcrossTheBlock) {
  // Each thread writes its slot, syncs, then reads its neighbour's: only correct with a barrier.
  constexpr unsigned kThreads = 64;
  std::vector<unsigned> slots(kThreads, 0), seen(kThreads, 0);
  emu::run_grid(dim3(1), dim3(kThreads), [&] {
    slots[threadIdx.x] = threadIdx.x + 1;
    __syncthreads();
    seen[threadIdx.x] = slots[(threadIdx.x + 1) % kThreads];
  });
  for (unsigned t = 0; t < kThreads; ++t) EXPECT_EQ(seen[t], (t + 1) % kThreads + 1);
}

TEST(Emu, ShuffleDownReadsTheLaneBelow) {
  constexpr unsigned kThreads = 64;
  std::vector<uint32_t> out(kThreads);
  emu::run_grid(dim3(1), dim3(kThreads), [&] { out[threadIdx.x] = emu::shuffle_down_bits(threadIdx.x, 3); });
  for (unsigned t = 0; t < kThreads; ++t) EXPECT_EQ(out[t], (t % 32) + 3 < 32 ? t + 3 : t) << t;
}

TEST(Emu, InvalidLaunchesFailLikeCuda) {
  EXPECT_THROW(emu::run_grid(dim3(0), dim3(32), [] {}), Error);
  EXPECT_THROW(emu::run_grid(dim3(1), dim3(2048), [] {}), Error);
  EXPECT_THROW(emu::sync_block(), Error);
}

}  // namespace
}  // namespace bmc
