// Loops left to the compiler's vectorizer, built three times: for AVX-512 (x86-64-v4), AVX2
// (x86-64-v3) and the baseline the rest of the library is built for. The dynamic loader picks
// the widest copy this CPU runs (an ifunc), once per process; BMC_ISA (core/cpu_isa.h) chooses
// only among our own kernels. For functions that do bulk work: every call takes one indirect
// jump, and a copy's callees are inlined into it or run at the baseline.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BMC_VECTOR_LOOPS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BMC_VECTOR_LOOPS
#endif
