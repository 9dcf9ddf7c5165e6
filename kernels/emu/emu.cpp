// Fiber scheduler behind kernels/emu/emu.h. One ucontext fiber per emulated thread; the scheduler
// resumes every unfinished fiber in turn (in a fresh shuffled order each round), and a fiber gives
// control back when it reaches a barrier or finishes. A round in which every unfinished fiber
// reached the same barrier releases it; fibers at different barriers, or at a barrier while others
// finished, are an error. An exception in a thread stops the launch and is rethrown to the caller.
// __shared__ arrays are statics in the section bmc_emu_shared (kernels/emu/emu.h); the linker's
// __start_ / __stop_ symbols bound it, so each block can poison all of it.
#include "kernels/emu/emu.h"

#include <ucontext.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

// Weak: a binary with no __shared__ array has no such section.
extern "C" char __start_bmc_emu_shared[] __attribute__((weak));
extern "C" char __stop_bmc_emu_shared[] __attribute__((weak));

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
  const char* barrier_file = "";  // where the fiber waits (after it yielded at a barrier)
  int barrier_line = 0;
};

struct BlockRun {
  const std::function<void()>* body = nullptr;
  ucontext_t scheduler;
  std::vector<Fiber> fibers;
  std::vector<char> stacks;
  std::vector<uint32_t> shuffle_slots;
  std::vector<std::array<uint32_t, 7>> mma_slots;  // a0..a3, b0, b1, metadata
  size_t current = 0;
  std::mt19937_64 order;  // thread and block orders of this launch
  std::exception_ptr error;  // thrown by a thread: the launch stops and rethrows it
};

thread_local BlockRun* g_run = nullptr;
thread_local Stats g_stats;
thread_local uint64_t g_launches = 0;

uint64_t emu_seed() {
  static const uint64_t seed = [] {
    const char* s = std::getenv("BMC_EMU_SEED");
    return s ? std::strtoull(s, nullptr, 10) : uint64_t{0x5eed};
  }();
  return seed;
}

void fiber_entry() {
  BlockRun& run = *g_run;
  // An exception must not unwind past the fiber's own stack: keep it for the scheduler.
  try {
    (*run.body)();
  } catch (...) {
    run.error = std::current_exception();
  }
  run.fibers[run.current].done = true;
  // Returning resumes uc_link, the scheduler.
}

unsigned linear_thread_id() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

void poison_shared_memory() {
  char* const begin = __start_bmc_emu_shared;
  char* const end = __stop_bmc_emu_shared;
  if (begin != nullptr && end > begin) std::memset(begin, kSharedPoison, static_cast<size_t>(end - begin));
}

void run_block(BlockRun& run) {
  const unsigned n = blockDim.x * blockDim.y * blockDim.z;
  poison_shared_memory();
  run.fibers.assign(n, Fiber{});
  if (run.stacks.size() < n * kStackBytes) run.stacks.resize(n * kStackBytes);
  run.shuffle_slots.assign(n, 0);
  run.mma_slots.assign(n, {});
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = run.fibers[i];
    f.index = {i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
    BMC_CHECK(getcontext(&f.context) == 0, "emu: getcontext failed");
    f.context.uc_stack.ss_sp = run.stacks.data() + i * kStackBytes;
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &run.scheduler;
    makecontext(&f.context, fiber_entry, 0);
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  size_t remaining = n;
  while (remaining > 0) {
    std::shuffle(order.begin(), order.end(), run.order);
    for (size_t i : order) {
      if (run.fibers[i].done) continue;
      run.current = i;
      threadIdx = run.fibers[i].index;
      BMC_CHECK(swapcontext(&run.scheduler, &run.fibers[i].context) == 0, "emu: swapcontext failed");
      // The other threads of the block are abandoned mid-kernel, as a faulting launch is.
      if (run.error) std::rethrow_exception(std::exchange(run.error, nullptr));
    }
    remaining = 0;
    const Fiber* waiting = nullptr;
    const Fiber* finished = nullptr;
    for (const Fiber& f : run.fibers) {
      remaining += f.done ? 0 : 1;
      if (f.done) {
        finished = &f;
        continue;
      }
      if (!waiting) {
        waiting = &f;
      } else if (f.barrier_line != waiting->barrier_line || std::strcmp(f.barrier_file, waiting->barrier_file) != 0) {
        BMC_FAIL("emu: mismatched __syncthreads in block (", blockIdx.x, ", ", blockIdx.y, ", ", blockIdx.z, "): thread ",
                 waiting->index.x, " waits at ", waiting->barrier_file, ":", waiting->barrier_line, ", thread ", f.index.x,
                 " at ", f.barrier_file, ":", f.barrier_line);
      }
    }
    BMC_CHECK(!waiting || !finished, "emu: divergent __syncthreads in block (", blockIdx.x, ", ", blockIdx.y, ", ",
              blockIdx.z, "): thread ", waiting ? waiting->index.x : 0, " waits at ", waiting ? waiting->barrier_file : "",
              ":", waiting ? waiting->barrier_line : 0, " while thread ", finished ? finished->index.x : 0,
              " has left the kernel");
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
  BMC_CHECK(block.x <= 1024 && block.y <= 1024 && block.z <= 64, "emu launch: block (", block.x, ", ", block.y, ", ",
            block.z, ") exceeds CUDA's (1024, 1024, 64)");
  BMC_CHECK(grid.y <= 65535 && grid.z <= 65535 && grid.x <= 0x7fffffffu, "emu launch: grid (", grid.x, ", ", grid.y, ", ",
            grid.z, ") exceeds CUDA's (2^31 - 1, 65535, 65535)");
  // Shared memory is one region for the whole process: one launch at a time.
  static std::mutex launches;
  const std::lock_guard<std::mutex> serialised(launches);
  BlockRun run;
  run.body = &body;
  run.order.seed(emu_seed() * 0x9E3779B97F4A7C15ull + ++g_launches);
  g_run = &run;
  gridDim = grid;
  blockDim = block;
  const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
  std::vector<uint64_t> block_order(blocks);
  for (uint64_t b = 0; b < blocks; ++b) block_order[b] = b;
  std::shuffle(block_order.begin(), block_order.end(), run.order);
  try {
    for (const uint64_t b : block_order) {
      blockIdx = {static_cast<unsigned>(b % grid.x), static_cast<unsigned>((b / grid.x) % grid.y),
                  static_cast<unsigned>(b / (uint64_t{grid.x} * grid.y))};
      run_block(run);
      ++g_stats.blocks;
    }
  } catch (...) {
    g_run = nullptr;
    throw;
  }
  g_run = nullptr;
}

void sync_block(const char* file, int line) {
  BMC_CHECK(g_run != nullptr, "__syncthreads outside an emulated kernel");
  BlockRun& run = *g_run;
  ++g_stats.barriers;
  Fiber& self = run.fibers[run.current];
  self.barrier_file = file;
  self.barrier_line = line;
  BMC_CHECK(swapcontext(&self.context, &run.scheduler) == 0, "emu: swapcontext failed");
  threadIdx = self.index;
}

namespace {

constexpr uint32_t kPoisonBits = 0xffffffffu;

uint32_t shuffle(uint32_t bits, int (*source_lane)(int lane, int arg), int arg, uint32_t mask) {
  BMC_CHECK(g_run != nullptr, "warp shuffle outside an emulated kernel");
  BlockRun& run = *g_run;
  const unsigned tid = linear_thread_id();
  const int lane = static_cast<int>(tid % kWarpSize);
  BMC_CHECK((mask >> lane) & 1u, "emu: thread ", tid, " of block (", blockIdx.x, ", ", blockIdx.y, ", ", blockIdx.z,
            ") calls a warp shuffle whose member mask 0x", std::hex, mask, std::dec, " leaves out its lane ", lane);
  run.shuffle_slots[tid] = bits;
  sync_block("warp shuffle (publish)", 0);
  const int src_lane = source_lane(lane, arg);
  const unsigned src = tid - lane + src_lane;
  // A source beyond the warp leaves the value as it is (CUDA's rule); a lane of the warp that is
  // outside the mask, or that the block does not have, has no defined value.
  uint32_t out = bits;
  if (src_lane >= 0 && src_lane < kWarpSize)
    out = (mask >> src_lane) & 1u && src < run.shuffle_slots.size() ? run.shuffle_slots[src] : kPoisonBits;
  sync_block("warp shuffle (read)", 0);  // nobody overwrites a slot before everyone has read
  return out;
}

}  // namespace

uint32_t shuffle_down_bits(uint32_t bits, int delta, uint32_t mask) {
  return shuffle(bits, [](int lane, int d) { return lane + d < kWarpSize ? lane + d : lane; }, delta, mask);
}

uint32_t shuffle_xor_bits(uint32_t bits, int lane_mask, uint32_t mask) {
  return shuffle(bits, [](int lane, int m) { return lane ^ m; }, lane_mask, mask);
}

uint32_t shuffle_index_bits(uint32_t bits, int src_lane, uint32_t mask) {
  return shuffle(bits, [](int, int s) { return s; }, src_lane, mask);
}

namespace {

int8_t byte_s8(uint32_t reg, int i) { return static_cast<int8_t>((reg >> (8 * i)) & 0xFF); }
uint8_t byte_u8(uint32_t reg, int i) { return static_cast<uint8_t>((reg >> (8 * i)) & 0xFF); }

}  // namespace

// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k32" and for sparse mma.m16n8k32 with
// 8-bit types), groupID g = lane >> 2, threadID_in_group t = lane % 4:
//   A dense: register r holds row g + 8 * (r & 1), columns 4t + 16 * (r >> 1) .. + 3;
//   A sparse: register r holds row g + 8 * r, the kept values of columns 8t .. 8t + 7;
//   metadata: lanes with t = 0, 1 hold groups 4t .. 4t + 3 of row g in bits 0..15 and of row
//     g + 8 in bits 16..31, one nibble per group of 4 columns;
//   B: register r holds rows 4t + 16 r .. + 3 of column g;
//   C / D: register i holds row g + 8 * (i >> 1), column 2t + (i & 1).
void mma_m16n8k32_s8u8(int32_t d[4], const uint32_t* a, const uint32_t b[2], const int32_t c[4], uint32_t meta,
                       bool sparse) {
  BMC_CHECK(g_run != nullptr, "mma outside an emulated kernel");
  BlockRun& run = *g_run;
  BMC_CHECK(run.fibers.size() % kWarpSize == 0, "emu mma: the block has ", run.fibers.size(),
            " threads, not whole warps");
  const unsigned tid = linear_thread_id();
  auto& mine = run.mma_slots[tid];
  for (int r = 0; r < 4; ++r) mine[r] = (sparse && r >= 2) ? 0u : a[r];
  mine[4] = b[0];
  mine[5] = b[1];
  mine[6] = meta;
  sync_block("mma (publish)", 0);
  const unsigned base = tid - tid % kWarpSize;
  auto lane = [&](int g, int t) -> const std::array<uint32_t, 7>& { return run.mma_slots[base + 4 * g + t]; };
  auto a_at = [&](int row, int k) -> int32_t {
    if (!sparse) return byte_s8(lane(row % 8, (k % 16) / 4)[(row / 8) + 2 * (k / 16)], k % 4);
    const int group = k / 4;
    const uint32_t word = lane(row % 8, group / 4)[6];
    const int nibble = static_cast<int>((word >> ((row / 8) * 16 + (group % 4) * 4)) & 0xF);
    BMC_CHECK(nibble != 0x0 && nibble != 0x5 && nibble != 0xA && nibble != 0xF, "emu mma.sp: metadata nibble 0x",
              nibble, " of row ", row, ", group ", group, " is invalid");
    const int lo = nibble & 3, hi = (nibble >> 2) & 3;
    if (k % 4 != lo && k % 4 != hi) return 0;
    const int packed = 2 * group + (k % 4 == hi ? 1 : 0);  // compressed column
    return byte_s8(lane(row % 8, packed / 4)[row / 8], packed % 4);
  };
  auto b_at = [&](int k, int col) -> int32_t { return byte_u8(lane(col, (k % 16) / 4)[4 + k / 16], k % 4); };
  const int g = static_cast<int>(tid % kWarpSize) / 4, t = static_cast<int>(tid % kWarpSize) % 4;
  int32_t out[4];
  for (int i = 0; i < 4; ++i) {
    const int row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
    int32_t acc = c[i];
    for (int k = 0; k < 32; ++k) acc += a_at(row, k) * b_at(k, col);
    out[i] = acc;
  }
  sync_block("mma (read)", 0);  // nobody overwrites a slot before everyone has read
  for (int i = 0; i < 4; ++i) d[i] = out[i];
}

Stats stats() { return g_stats; }

}  // namespace bmc::emu
