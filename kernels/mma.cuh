// Integer warp-level matrix instructions, behind wrappers the host emulator implements
// (kernels/emu): mma.sync m16n8k32 and its 2:4 sparse form mma.sp (sparsity selector 0), signed
// 8-bit A (weights) by unsigned 8-bit B (activations) into int32. Fragment layouts are the PTX
// ISA's (kernels/emu/emu.cpp spells them out). sm_80 and newer; included by .cu files only.
#pragma once

#include <cstdint>

#include "kernels/compat.cuh"

namespace bmc {

// d = a * b + c for one 16 x 8 x 32 tile; a: 4 registers of 4 s8, b: 2 registers of 4 u8.
BMC_DEVICE void mma_m16n8k32_s8u8(int32_t d[4], const uint32_t a[4], const uint32_t b[2], const int32_t c[4]) {
#if defined(BMC_EMU)
  emu::mma_m16n8k32_s8u8(d, a, b, c, 0u, false);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.u8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]),
        "r"(c[3]));
#else
  (void)a; (void)b;
  for (int i = 0; i < 4; ++i) d[i] = c[i];
  __trap();
#endif
}

// The same tile with A 2:4 sparse: a holds 2 registers of kept values, meta the lane's metadata.
BMC_DEVICE void mma_sp_m16n8k32_s8u8(int32_t d[4], const uint32_t a[2], const uint32_t b[2], const int32_t c[4],
                                     uint32_t meta) {
#if defined(BMC_EMU)
  emu::mma_m16n8k32_s8u8(d, a, b, c, meta, true);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sp.sync.aligned.m16n8k32.row.col.s32.s8.u8.s32 {%0, %1, %2, %3}, {%4, %5}, {%6, %7}, "
      "{%8, %9, %10, %11}, %12, 0x0;\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]), "r"(meta));
#else
  (void)a; (void)b; (void)meta;
  for (int i = 0; i < 4; ++i) d[i] = c[i];
  __trap();
#endif
}

}  // namespace bmc
