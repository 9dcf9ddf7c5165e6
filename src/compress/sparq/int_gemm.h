// Exact integer GEMM of unsigned 8-bit activation codes by signed 8-bit weight codes on the CPU:
// C[m][o] = sum_k A[m][k] * B[o][k] in int32, both operands K-contiguous (A is M x K, B is O x K),
// C row-major M x O. No intermediate is saturated or narrowed: the AVX-512 VNNI path sums four
// u8 x s8 products into each int32 lane (vpdpbusd), the AVX2 path widens both operands to 16 bits
// and sums pairs of products into int32 (vpmaddwd, |2 * 255 * 128| < 2^31), the portable path
// loops. The path is chosen at run time from the CPU's features; every one gives the same int32.
#pragma once

#include <cstdint>
#include <string>

namespace bmc::compress {

enum class IntGemmPath { Portable, Avx2, Avx512Vnni };
const char* int_gemm_path_name(IntGemmPath path);

// The fastest path this CPU runs (BMC_INT_GEMM=portable|avx2|avx512-vnni forces a slower one).
IntGemmPath best_int_gemm_path();
bool int_gemm_path_supported(IntGemmPath path);

// Threads over rows of C (OpenMP).
void int_gemm_u8s8(const uint8_t* a, const int8_t* b, int32_t* c, int64_t m, int64_t k, int64_t o,
                   IntGemmPath path = best_int_gemm_path());

}  // namespace bmc::compress
