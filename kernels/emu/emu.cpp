// Fiber scheduler behind kernels/emu/emu.h. One ucontext fiber per emulated thread. A few blocks
// of the grid are resident at once; the scheduler picks one at random and runs a round of it:
// every runnable fiber of the block, in a fresh shuffled order, until it reaches a barrier, an
// atomic or its end. A block whose unfinished fibers all wait at the same barrier has it
// released; fibers at different barriers, or at a barrier while others finished, are an error. A
// finished block hands its slot to the next block of the shuffled grid order. An exception in a
// thread stops the launch and is rethrown to the caller.
// __shared__ arrays are statics in the section bmc_emu_shared (kernels/emu/emu.h); the linker's
// __start_ / __stop_ symbols bound it. The section holds the running block's bytes; the others'
// are kept aside while it runs, so resident blocks never see each other's shared memory.
#include "kernels/emu/emu.h"

#include <ucontext.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
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
// Blocks of a grid that are under way at once, as on a GPU with a few multiprocessors: their
// threads interleave at barriers and atomics.
constexpr size_t kResidentBlocks = 4;

enum class FiberState { kRunnable, kAtBarrier, kDone };

struct Fiber {
  ucontext_t context;
  uint3 index;
  FiberState state = FiberState::kRunnable;
  const char* barrier_file = "";  // where the fiber waits (after it yielded at a barrier)
  int barrier_line = 0;
};

// One resident block: its threads, and its shared memory while another block's is live.
struct Block {
  uint3 index;
  std::vector<Fiber> fibers;
  char* stacks = nullptr;  // kStackBytes a thread, owned by the launch's stack pool
  std::vector<uint32_t> shuffle_slots;
  std::vector<std::array<uint32_t, 7>> mma_slots;  // a0..a3, b0, b1, metadata
  std::vector<char> saved_shared;
  size_t current = 0;
  bool active = false;
};

struct LaunchRun {
  const std::function<void()>* body = nullptr;
  ucontext_t scheduler;
  std::vector<Block> blocks;  // the resident slots
  Block* running = nullptr;
  Block* shared_owner = nullptr;  // whose bytes the shared section holds
  std::mt19937_64 order;  // thread and block orders of this launch
  std::exception_ptr error;  // thrown by a thread: the launch stops and rethrows it
};

thread_local LaunchRun* g_run = nullptr;
thread_local Stats g_stats;
thread_local uint64_t g_launches = 0;

// Fiber stacks outlive launches: allocated once a slot, never zero-filled, so the pages a
// thread's frames never reach are never touched.
char* slot_stacks(size_t slot, size_t threads) {
  thread_local std::vector<std::pair<std::unique_ptr<char[]>, size_t>> pool;
  if (pool.size() <= slot) pool.resize(slot + 1);
  auto& [memory, capacity] = pool[slot];
  if (capacity < threads) {
    memory.reset(new char[threads * kStackBytes]);
    capacity = threads;
  }
  return memory.get();
}

uint64_t emu_seed() {
  static const uint64_t seed = [] {
    const char* s = std::getenv("BMC_EMU_SEED");
    return s ? std::strtoull(s, nullptr, 10) : uint64_t{0x5eed};
  }();
  return seed;
}

void fiber_entry() {
  LaunchRun& run = *g_run;
  // An exception must not unwind past the fiber's own stack: keep it for the scheduler.
  try {
    (*run.body)();
  } catch (...) {
    run.error = std::current_exception();
  }
  run.running->fibers[run.running->current].state = FiberState::kDone;
  // Returning resumes uc_link, the scheduler.
}

unsigned linear_thread_id() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

size_t shared_bytes() {
  char* const begin = __start_bmc_emu_shared;
  char* const end = __stop_bmc_emu_shared;
  return begin != nullptr && end > begin ? static_cast<size_t>(end - begin) : 0;
}

// Makes the shared section hold `block`'s bytes, keeping the previous owner's.
void load_shared(LaunchRun& run, Block& block) {
  if (run.shared_owner == &block) return;
  const size_t bytes = shared_bytes();
  if (run.shared_owner != nullptr) {
    run.shared_owner->saved_shared.resize(bytes);
    std::memcpy(run.shared_owner->saved_shared.data(), __start_bmc_emu_shared, bytes);
  }
  if (bytes > 0) std::memcpy(__start_bmc_emu_shared, block.saved_shared.data(), bytes);
  run.shared_owner = &block;
}

void start_block(LaunchRun& run, Block& block, size_t slot, uint64_t linear_index, dim3 grid) {
  const unsigned n = blockDim.x * blockDim.y * blockDim.z;
  block.index = {static_cast<unsigned>(linear_index % grid.x), static_cast<unsigned>((linear_index / grid.x) % grid.y),
                 static_cast<unsigned>(linear_index / (uint64_t{grid.x} * grid.y))};
  // Every block starts with its shared memory poisoned.
  block.saved_shared.assign(shared_bytes(), static_cast<char>(kSharedPoison));
  block.fibers.assign(n, Fiber{});
  block.stacks = slot_stacks(slot, n);
  block.shuffle_slots.assign(n, 0);
  block.mma_slots.assign(n, {});
  block.active = true;
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = block.fibers[i];
    f.index = {i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
    BMC_CHECK(getcontext(&f.context) == 0, "emu: getcontext failed");
    f.context.uc_stack.ss_sp = block.stacks + i * kStackBytes;
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &run.scheduler;
    makecontext(&f.context, fiber_entry, 0);
  }
}

// Resumes each runnable thread of the block once, in a shuffled order; each runs until it
// reaches a barrier, an atomic or the end. Then, if no thread can run, releases the barrier they
// all wait at, or reports why it cannot be released. Returns true once every thread has finished.
bool run_round(LaunchRun& run, Block& block) {
  load_shared(run, block);
  run.running = &block;
  blockIdx = block.index;
  const size_t n = block.fibers.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), run.order);
  for (size_t i : order) {
    Fiber& f = block.fibers[i];
    if (f.state != FiberState::kRunnable) continue;
    block.current = i;
    threadIdx = f.index;
    BMC_CHECK(swapcontext(&run.scheduler, &f.context) == 0, "emu: swapcontext failed");
    // The other threads of the grid are abandoned mid-kernel, as a faulting launch is.
    if (run.error) std::rethrow_exception(std::exchange(run.error, nullptr));
  }
  const Fiber* waiting = nullptr;
  const Fiber* finished = nullptr;
  for (const Fiber& f : block.fibers) {
    if (f.state == FiberState::kRunnable) return false;
    if (f.state == FiberState::kDone) {
      finished = &f;
      continue;
    }
    if (!waiting) {
      waiting = &f;
    } else if (f.barrier_line != waiting->barrier_line || std::strcmp(f.barrier_file, waiting->barrier_file) != 0) {
      BMC_FAIL("emu: mismatched __syncthreads in block (", block.index.x, ", ", block.index.y, ", ", block.index.z,
               "): thread ", waiting->index.x, " waits at ", waiting->barrier_file, ":", waiting->barrier_line,
               ", thread ", f.index.x, " at ", f.barrier_file, ":", f.barrier_line);
    }
  }
  if (!waiting) return true;
  BMC_CHECK(!finished, "emu: divergent __syncthreads in block (", block.index.x, ", ", block.index.y, ", ",
            block.index.z, "): thread ", waiting->index.x, " waits at ", waiting->barrier_file, ":",
            waiting->barrier_line, " while thread ", finished ? finished->index.x : 0, " has left the kernel");
  for (Fiber& f : block.fibers) f.state = FiberState::kRunnable;
  return false;
}

// Gives control back to the scheduler; the fiber resumes with its own indices.
void yield_fiber(LaunchRun& run) {
  Block& block = *run.running;
  Fiber& self = block.fibers[block.current];
  BMC_CHECK(swapcontext(&self.context, &run.scheduler) == 0, "emu: swapcontext failed");
  blockIdx = block.index;
  threadIdx = self.index;
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
  LaunchRun run;
  run.body = &body;
  run.order.seed(emu_seed() * 0x9E3779B97F4A7C15ull + ++g_launches);
  gridDim = grid;
  blockDim = block;
  const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
  std::vector<uint64_t> block_order(blocks);
  for (uint64_t b = 0; b < blocks; ++b) block_order[b] = b;
  std::shuffle(block_order.begin(), block_order.end(), run.order);
  run.blocks.resize(static_cast<size_t>(std::min<uint64_t>(blocks, kResidentBlocks)));
  g_run = &run;
  try {
    uint64_t next = 0;
    for (size_t slot = 0; slot < run.blocks.size(); ++slot) start_block(run, run.blocks[slot], slot, block_order[next++], grid);
    std::vector<size_t> active(run.blocks.size());
    for (size_t slot = 0; slot < active.size(); ++slot) active[slot] = slot;
    // A resident block chosen at random runs a round; a finished one hands its slot to the next
    // block in the shuffled order.
    while (!active.empty()) {
      const size_t pick = std::uniform_int_distribution<size_t>(0, active.size() - 1)(run.order);
      const size_t slot = active[pick];
      Block& b = run.blocks[slot];
      if (!run_round(run, b)) continue;
      g_stats.threads += b.fibers.size();
      ++g_stats.blocks;
      if (run.shared_owner == &b) run.shared_owner = nullptr;
      if (next < blocks) {
        start_block(run, b, slot, block_order[next++], grid);
      } else {
        active.erase(active.begin() + static_cast<std::ptrdiff_t>(pick));
      }
    }
  } catch (...) {
    g_run = nullptr;
    throw;
  }
  g_run = nullptr;
}

void sync_block(const char* file, int line) {
  BMC_CHECK(g_run != nullptr, "__syncthreads outside an emulated kernel");
  LaunchRun& run = *g_run;
  ++g_stats.barriers;
  Fiber& self = run.running->fibers[run.running->current];
  self.barrier_file = file;
  self.barrier_line = line;
  self.state = FiberState::kAtBarrier;
  yield_fiber(run);
}

void atomic_point() {
  if (g_run == nullptr) return;  // an atomic wrapper called from host code
  ++g_stats.atomic_points;
  yield_fiber(*g_run);
}

namespace {

constexpr uint32_t kPoisonBits = 0xffffffffu;

uint32_t shuffle(uint32_t bits, int (*source_lane)(int lane, int arg), int arg, uint32_t mask) {
  BMC_CHECK(g_run != nullptr, "warp shuffle outside an emulated kernel");
  Block& run = *g_run->running;
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
  Block& run = *g_run->running;
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
