// Fiber scheduler behind kernels/emu/emu.h. One ucontext fiber per emulated thread; the scheduler
// resumes every unfinished fiber in turn, and a fiber gives control back when it reaches a
// barrier or finishes. A round in which every unfinished fiber reached the barrier releases it.
#include "kernels/emu/emu.h"

#include <ucontext.h>

#include <cstring>
#include <vector>

#include "core/error.h"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace bmc::emu {
namespace {

constexpr size_t kStackBytes = 64 * 1024;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr int kWarpSize = 32;

struct Fiber {
  ucontext_t context;
  uint3 index;
  bool done = false;
};

struct BlockRun {
  const std::function<void()>* body = nullptr;
  ucontext_t scheduler;
  std::vector<Fiber> fibers;
  std::vector<char> stacks;
  std::vector<uint32_t> shuffle_slots;
  size_t current = 0;
};

thread_local BlockRun* g_run = nullptr;
thread_local Stats g_stats;

void fiber_entry() {
  BlockRun& run = *g_run;
  (*run.body)();
  run.fibers[run.current].done = true;
  // Returning resumes uc_link, the scheduler.
}

unsigned linear_thread_id() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

void run_block(BlockRun& run) {
  const unsigned n = blockDim.x * blockDim.y * blockDim.z;
  run.fibers.assign(n, Fiber{});
  if (run.stacks.size() < n * kStackBytes) run.stacks.resize(n * kStackBytes);
  run.shuffle_slots.assign(n, 0);
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = run.fibers[i];
    f.index = {i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
    BMC_CHECK(getcontext(&f.context) == 0, "emu: getcontext failed");
    f.context.uc_stack.ss_sp = run.stacks.data() + i * kStackBytes;
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &run.scheduler;
    makecontext(&f.context, fiber_entry, 0);
  }
  size_t remaining = n;
  while (remaining > 0) {
    for (size_t i = 0; i < n; ++i) {
      if (run.fibers[i].done) continue;
      run.current = i;
      threadIdx = run.fibers[i].index;
      BMC_CHECK(swapcontext(&run.scheduler, &run.fibers[i].context) == 0, "emu: swapcontext failed");
    }
    remaining = 0;
    for (const Fiber& f : run.fibers) remaining += f.done ? 0 : 1;
  }
  g_stats.threads += n;
}

}  // namespace

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  BMC_CHECK(grid.x > 0 && grid.y > 0 && grid.z > 0, "emu launch: empty grid (", grid.x, ", ",
            grid.y, ", ", grid.z, ") is an invalid configuration");
  BMC_CHECK(threads > 0 && threads <= kMaxThreadsPerBlock, "emu launch: block of ", threads,
            " threads; expected 1..", kMaxThreadsPerBlock);
  BMC_CHECK(g_run == nullptr, "emu launch: nested launches are not supported");
  BlockRun run;
  run.body = &body;
  g_run = &run;
  gridDim = grid;
  blockDim = block;
  try {
    for (unsigned z = 0; z < grid.z; ++z)
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) {
          blockIdx = {x, y, z};
          run_block(run);
          ++g_stats.blocks;
        }
  } catch (...) {
    g_run = nullptr;
    throw;
  }
  g_run = nullptr;
}

void sync_block() {
  BMC_CHECK(g_run != nullptr, "__syncthreads outside an emulated kernel");
  BlockRun& run = *g_run;
  ++g_stats.barriers;
  Fiber& self = run.fibers[run.current];
  BMC_CHECK(swapcontext(&self.context, &run.scheduler) == 0, "emu: swapcontext failed");
  threadIdx = self.index;
}

namespace {

uint32_t shuffle(uint32_t bits, int (*source_lane)(int lane, int arg), int arg) {
  BlockRun& run = *g_run;
  const unsigned tid = linear_thread_id();
  run.shuffle_slots[tid] = bits;
  sync_block();
  const int lane = static_cast<int>(tid % kWarpSize);
  const int src_lane = source_lane(lane, arg);
  const unsigned src = tid - lane + src_lane;
  const uint32_t out =
      (src_lane >= 0 && src_lane < kWarpSize && src < run.shuffle_slots.size()) ? run.shuffle_slots[src] : bits;
  sync_block();  // nobody overwrites a slot before everyone has read
  return out;
}

}  // namespace

uint32_t shuffle_down_bits(uint32_t bits, int delta) {
  return shuffle(bits, [](int lane, int d) { return lane + d < kWarpSize ? lane + d : lane; }, delta);
}

uint32_t shuffle_xor_bits(uint32_t bits, int lane_mask) {
  return shuffle(bits, [](int lane, int m) { return lane ^ m; }, lane_mask);
}

uint32_t shuffle_index_bits(uint32_t bits, int src_lane) {
  return shuffle(bits, [](int, int s) { return s; }, src_lane);
}

Stats stats() { return g_stats; }

}  // namespace bmc::emu
