// The host emulator itself: grid/block indexing, barrier semantics, launch validation, and that it
// exposes what a GPU's scheduling would: a seeded race, a divergent and a mismatched barrier,
// a read of shared memory nobody wrote, a grid reduction that trusts an atomic it should not.
// Compiled as an emulated kernel source is, for the device wrappers' atomics.
#define BMC_EMU
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "core/error.h"
#include "kernels/emu/emu.h"  // first, as the emulator's -include puts it
#include "kernels/device_compat.cuh"

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

TEST(Emu, ShuffleMasksAreHonoured) {
  std::vector<uint32_t> out(32);
  // A block of 16 threads, mask lanes 0..15: lane 14 reads lane 16, which is not there: poison.
  emu::run_grid(dim3(1), dim3(16), [&] { out[threadIdx.x] = emu::shuffle_down_bits(threadIdx.x, 2, 0x0000ffffu); });
  EXPECT_EQ(out[3], 5u);
  EXPECT_EQ(out[13], 15u);
  EXPECT_EQ(out[14], 0xffffffffu);
  EXPECT_EQ(out[15], 0xffffffffu);
  // Lanes 16..31 call with a mask that leaves them out.
  EXPECT_THROW(emu::run_grid(dim3(1), dim3(32), [&] { emu::shuffle_xor_bits(1, 1, 0x0000ffffu); }), Error);
}

TEST(Emu, InvalidLaunchesFailLikeCuda) {
  EXPECT_THROW(emu::run_grid(dim3(0), dim3(32), [] {}), Error);
  EXPECT_THROW(emu::run_grid(dim3(1), dim3(2048), [] {}), Error);
  EXPECT_THROW(emu::sync_block(), Error);
  EXPECT_THROW(emu::run_grid(dim3(1, 70000), dim3(32), [] {}), Error);
  EXPECT_THROW(emu::run_grid(dim3(1), dim3(1, 1, 128), [] {}), Error);
}

// A race: each thread reads its neighbour's slot with no barrier between the write and the read.
// Run in index order it would give the same answer every time; shuffled thread orders make it
// change from launch to launch, as on a GPU.
TEST(Emu, ARaceShowsAsLaunchToLaunchDifferences) {
  constexpr unsigned kThreads = 64;
  std::set<std::vector<unsigned>> outcomes;
  for (int launch = 0; launch < 8; ++launch) {
    std::vector<unsigned> slots(kThreads, 0), seen(kThreads, 0);
    emu::run_grid(dim3(1), dim3(kThreads), [&] {
      __syncthreads();  // start every thread in a shuffled round
      slots[threadIdx.x] = threadIdx.x + 1;
      seen[threadIdx.x] = slots[(threadIdx.x + 1) % kThreads];  // racy: no barrier before the read
    });
    outcomes.insert(seen);
  }
  EXPECT_GT(outcomes.size(), 1u) << "the race went unseen";
}

// A seeded bug: thread 0 sums a shared array that only the first `filled` threads wrote. Static
// storage would read zeros for the rest (and the right answer); every block starting poisoned
// makes the missing writes show as NaN, in every block, not only the first.
TEST(Emu, SharedMemoryStartsPoisonedInEveryBlock) {
  std::vector<float> sums(3, 0.0f);
  auto launch = [&](unsigned filled) {
    emu::run_grid(dim3(3), dim3(8), [&] {
      __shared__ float slots[8];
      if (threadIdx.x < filled) slots[threadIdx.x] = 1.0f;
      __syncthreads();
      if (threadIdx.x == 0) {
        float s = 0;
        for (int i = 0; i < 8; ++i) s += slots[i];
        sums[blockIdx.x] = s;
      }
    });
  };
  launch(8);
  EXPECT_EQ(sums, (std::vector<float>{8, 8, 8}));
  launch(6);
  for (float s : sums) EXPECT_TRUE(std::isnan(s)) << "an unwritten shared slot read as " << s;
  std::vector<int> ints(1, 0);
  emu::run_grid(dim3(1), dim3(1), [&] {
    __shared__ int counter;
    ints[0] = counter;
  });
  EXPECT_EQ(ints[0], -1);
}

TEST(Emu, BlocksRunInAShuffledOrder) {
  std::vector<unsigned> order;
  emu::run_grid(dim3(16), dim3(1), [&] { order.push_back(blockIdx.x); });
  ASSERT_EQ(order.size(), 16u);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

// Resident blocks make progress side by side: between a block's two phases, other blocks run.
TEST(Emu, ResidentBlocksInterleave) {
  std::vector<unsigned> log;
  emu::run_grid(dim3(8), dim3(4), [&] {
    if (threadIdx.x == 0) log.push_back(blockIdx.x);
    __syncthreads();
    if (threadIdx.x == 0) log.push_back(blockIdx.x);
  });
  ASSERT_EQ(log.size(), 16u);
  bool interleaved = false;  // one after another, each block's two entries would be adjacent
  for (size_t i = 0; i < log.size(); i += 2) interleaved = interleaved || log[i] != log[i + 1];
  EXPECT_TRUE(interleaved);
}

// Each block's shared memory is its own while blocks interleave.
TEST(Emu, InterleavedBlocksKeepTheirOwnSharedMemory) {
  std::vector<unsigned> seen(16 * 32, 0);
  emu::run_grid(dim3(16), dim3(32), [&] {
    __shared__ unsigned slots[32];
    slots[threadIdx.x] = blockIdx.x * 100 + threadIdx.x;
    __syncthreads();
    __syncthreads();
    seen[blockIdx.x * 32 + threadIdx.x] = slots[31 - threadIdx.x];
  });
  for (unsigned b = 0; b < 16; ++b)
    for (unsigned t = 0; t < 32; ++t) EXPECT_EQ(seen[b * 32 + t], b * 100 + 31 - t) << b << " " << t;
}

// The last block to arrive sums every block's partial. Correct when each block writes its partial
// before counting itself in; the seeded bug counts first and writes after. Blocks run one after
// another, the bug would never show: the last block starts only once the others have finished.
TEST(Emu, AGridReductionThatCountsBeforeWritingIsCaught) {
  constexpr unsigned kBlocks = 16;
  auto reduce = [](bool count_first) {
    std::vector<unsigned> partial(kBlocks, 0);
    unsigned arrived = 0, total = 0;
    emu::run_grid(dim3(kBlocks), dim3(1), [&] {
      if (!count_first) partial[blockIdx.x] = blockIdx.x + 1;
      const unsigned before = atomic_add(&arrived, 1u);
      if (count_first) partial[blockIdx.x] = blockIdx.x + 1;
      if (before == kBlocks - 1)
        for (unsigned p : partial) total += p;
    });
    return total;
  };
  const unsigned expected = kBlocks * (kBlocks + 1) / 2;
  const uint64_t points = emu::stats().atomic_points;
  int wrong = 0;
  for (int launch = 0; launch < 8; ++launch) {
    EXPECT_EQ(reduce(false), expected);
    wrong += reduce(true) != expected ? 1 : 0;
  }
  EXPECT_EQ(emu::stats().atomic_points - points, 2u * 8 * 2 * kBlocks);  // before and after each atomic
  EXPECT_GT(wrong, 0) << "the missing partial went unseen";
}

TEST(Emu, ADivergentBarrierIsAnError) {
  try {
    emu::run_grid(dim3(1), dim3(64), [] {
      if (threadIdx.x < 16) return;  // these threads leave; the others wait at the barrier
      __syncthreads();
    });
    ADD_FAILURE() << "a divergent barrier must be refused";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("divergent __syncthreads"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("test_emu.cpp"), std::string::npos) << e.message();
  }
}

TEST(Emu, MismatchedBarriersAreAnError) {
  try {
    emu::run_grid(dim3(1), dim3(64), [] {
      if (threadIdx.x % 2 == 0)
        __syncthreads();
      else
        __syncthreads();
    });
    ADD_FAILURE() << "threads at different barriers must be refused";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("mismatched __syncthreads"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace bmc
