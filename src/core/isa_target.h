// For the sources built once per instruction set (core/cpu_isa.h; ISA_SRC in the Makefile).
//
// The build defines BMC_ISA_LEVEL (0 generic, 1 avx2, 2 avx512) and compiles the whole file for
// the baseline. Each such source and header first includes everything it needs, then brackets its
// own code with BMC_ISA_BEGIN / BMC_ISA_END and declares it in namespace BMC_ISA_NS
// (isa_generic, isa_avx2 or isa_avx512) of its own namespace:
//
//   #include <vector>
//   #include "ops/small_gemm.h"
//   BMC_ISA_BEGIN
//   namespace bmc::ops::BMC_ISA_NS { ... }
//   BMC_ISA_END
//
// Between the two, g++ compiles for the wider instruction set (a target pragma). g++ preprocesses a
// C++ file before it applies pragmas, so __AVX2__ and the like keep the baseline's values: the
// kernels choose their vectors with #if BMC_ISA_AVX2 and BMC_ISA_AVX512 instead. Functions and
// templates defined before BMC_ISA_BEGIN, the standard library's among them, keep the baseline even
// where the kernels instantiate them: their out-of-line copies are shared by the whole program, and
// one built for AVX-512 would fault on an AVX2 machine. That is why the includes come first and why
// per-ISA code lives in its own namespace.
#pragma once

#include "core/cpu_isa.h"

#if !defined(BMC_ISA_LEVEL)
#error "core/isa_target.h belongs to the sources built once per instruction set (ISA_SRC in the Makefile)"
#endif

#if BMC_ISA_LEVEL == 0
#define BMC_ISA_NS isa_generic
#define BMC_ISA_THIS ::bmc::CpuIsa::Generic
#define BMC_ISA_TARGET
#elif BMC_ISA_LEVEL == 1
#define BMC_ISA_NS isa_avx2
#define BMC_ISA_THIS ::bmc::CpuIsa::Avx2
#define BMC_ISA_TARGET _Pragma("GCC target(\"arch=x86-64-v3\")")
#elif BMC_ISA_LEVEL == 2
#define BMC_ISA_NS isa_avx512
#define BMC_ISA_THIS ::bmc::CpuIsa::Avx512
#define BMC_ISA_TARGET _Pragma("GCC target(\"arch=x86-64-v4\")")
#else
#error "BMC_ISA_LEVEL must be 0, 1 or 2"
#endif

// Only x86 has the wider sets; elsewhere all three copies are the generic code (and only the
// generic one is ever chosen).
#if defined(__x86_64__)
#define BMC_ISA_X86 1
#else
#define BMC_ISA_X86 0
#undef BMC_ISA_TARGET
#define BMC_ISA_TARGET
#endif

// This copy's vectors: AVX2 with FMA (both sets), AVX-512 (the widest).
#define BMC_ISA_AVX2 (BMC_ISA_X86 && BMC_ISA_LEVEL >= 1)
#define BMC_ISA_AVX512 (BMC_ISA_X86 && BMC_ISA_LEVEL >= 2)

#define BMC_ISA_BEGIN _Pragma("GCC push_options") BMC_ISA_TARGET
#define BMC_ISA_END _Pragma("GCC pop_options")
