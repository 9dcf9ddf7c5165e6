// Portability layer between nvcc, plain g++ (shared cores used by the CPU backend) and the host
// emulation of kernels (kernels/emu). Cores use only BMC_HD and the wrappers below, so the same
// source compiles for the GPU, for the CPU oracle and for the emulator.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define BMC_HD __host__ __device__ __forceinline__
#define BMC_DEVICE __device__ __forceinline__
#elif defined(BMC_EMU)
// Device-only helpers get internal linkage under emulation: their __shared__ statics then sit in
// the emulator's shared section as plain locals of the file (an inline function's would be a
// COMDAT, which the section cannot mix with the kernels' own).
#define BMC_HD inline
#define BMC_DEVICE static inline
#else
#define BMC_HD inline
#define BMC_DEVICE inline
#endif

namespace bmc {

BMC_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Never-fused float operations: nvcc contracts a*b+c into an FMA by default, g++ does not with
// -ffp-contract=off. Cores whose results must match bitwise use these (or fmaf explicitly).
BMC_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

BMC_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

}  // namespace bmc
