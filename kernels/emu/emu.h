// Host emulation of CUDA kernel launches, in the spirit of nvcc's old -deviceemu: a kernel's own
// source, compiled by g++ with this header force-included (-include kernels/emu/emu.h -DBMC_EMU),
// runs on the CPU. Each block's threads are cooperative fibers on one OS thread, so
// __syncthreads() is a real barrier among the block's threads, and __shared__ arrays (statics in
// one section of the binary, launches serialised) are each block's own: the section holds the
// running block's bytes while the other resident blocks' wait aside.
// Every block starts with all shared memory poisoned with 0xFF bytes (NaN as a float, -1 as an
// integer), as a GPU block starts with whatever the last one left, so a read before any write
// shows instead of finding zeros or the previous block's values. To surface what a GPU's scheduling
// would: the blocks of a grid start in a shuffled order, four at a time are under way and
// interleave (a thread gives way to other blocks at every barrier and before and after every
// atomic), and between two such points a block's threads run in a shuffled order (all seeded per
// launch, from BMC_EMU_SEED when set, so a failure repeats); a
// barrier that some threads of a block reach while others have left the kernel, or that threads
// reach at different __syncthreads sites, throws bmc::Error naming the kernel's source line.
//
// Supported: threadIdx/blockIdx/blockDim/gridDim, __syncthreads, static __shared__ arrays, the
// warp (member masks honoured) and atomic wrappers of kernels/device_compat.cuh, and the integer warp-level matrix
// instructions of kernels/mma.cuh with the PTX ISA's fragment layouts. Not supported: dynamic shared memory,
// cooperative groups, divergent warp shuffles (every thread of the block must reach a shuffle).
#pragma once

#include <cstdint>
#include <functional>

namespace bmc::emu {

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// Runs body once per thread of every block of the grid. Throws bmc::Error on an invalid
// configuration, as a real launch would fail.
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);

// Barrier among the threads of the running block (__syncthreads at file:line).
void sync_block(const char* file = "", int line = 0);

// Warp shuffles: each thread publishes its value, then reads a lane of its own warp. `mask` is
// the __shfl_*_sync member mask: a calling lane outside it throws (undefined on a device), and a
// read from a lane outside it, or from a lane a partial warp lacks, returns poison bits
// (0xFFFFFFFF: NaN as a float).
constexpr uint32_t kFullMask = 0xffffffffu;
uint32_t shuffle_down_bits(uint32_t bits, int delta, uint32_t mask = kFullMask);
uint32_t shuffle_xor_bits(uint32_t bits, int lane_mask, uint32_t mask = kFullMask);
uint32_t shuffle_index_bits(uint32_t bits, int src_lane, uint32_t mask = kFullMask);

// mma.sync.m16n8k32.row.col.s32.s8.u8.s32 (a: 4 registers) and, with `sparse`, mma.sp with
// sparsity selector 0 (a: 2 registers of compressed values, `meta` from lanes 4g and 4g + 1):
// every lane of the warp publishes its fragments, then computes its own four accumulators from
// the warp's. Throws on a block that is not whole warps and, for mma.sp, on an invalid metadata
// nibble (undefined behaviour on a device).
void mma_m16n8k32_s8u8(int32_t d[4], const uint32_t* a, const uint32_t b[2], const int32_t c[4], uint32_t meta,
                       bool sparse);

// Where an atomic of kernels/device_compat.cuh lets other threads, of this block or another
// resident one, run first. No effect outside an emulated kernel.
void atomic_point();

// The bytes every block's shared memory starts as.
constexpr unsigned char kSharedPoison = 0xFF;

// Counters that let tests check the emulator did what it claims.
struct Stats {
  uint64_t blocks = 0;
  uint64_t threads = 0;
  uint64_t barriers = 0;
  uint64_t atomic_points = 0;
};
Stats stats();

}  // namespace bmc::emu

using bmc::emu::dim3;
using bmc::emu::uint3;

extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ __attribute__((section("bmc_emu_shared"))) static
#define __launch_bounds__(...)

#define __syncthreads() ::bmc::emu::sync_block(__FILE__, __LINE__)
