// The instruction sets the CPU backend's convolution kernels are built for, and the one in use.
//
// The kernels (the sources listed as ISA_SRC in the Makefile: our GEMM, im2col, Winograd and the
// CPU convolution around them) are compiled once per instruction set from the same source, each
// copy in its own namespace (core/isa_target.h), and the library calls the copy chosen here when
// the process starts: the widest this CPU and its OS run, or a narrower one named by BMC_ISA
// (generic, avx2 or avx512). The rest of the library is built for the baseline (x86-64-v2 on
// x86), so one binary runs on every machine and at full width on AVX2 and AVX-512 ones.
//   generic  the baseline: SSE4.2 vectors (the GEMM multiplies, then adds: no FMA)
//   avx2     x86-64-v3: AVX2, FMA, BMI2 (4-row x 24-column GEMM tiles)
//   avx512   x86-64-v4: AVX-512 F/BW/CD/DQ/VL (8-row x 48-column GEMM tiles)
// AVX2 and AVX-512 give the same bits: every kernel does the same roundings in the same order at
// either width. The generic kernels round each product before adding it (a CPU without AVX2
// rarely has FMA, and FMA in software costs 50 times the vector loop), and sum the filter
// gradient of layers with under 16 taps per filter row (the CIFAR stem) by GEMM instead of in
// registers; they agree with the others within rounding (tests/core/test_cpu_isa.cpp).
#pragma once

namespace bmc {

enum class CpuIsa { Generic, Avx2, Avx512 };
constexpr CpuIsa kCpuIsas[] = {CpuIsa::Generic, CpuIsa::Avx2, CpuIsa::Avx512};

const char* cpu_isa_name(CpuIsa isa);
// Whether this CPU and OS run code built for `isa`.
bool cpu_isa_supported(CpuIsa isa);
// The widest supported one.
CpuIsa best_cpu_isa();
// The one in use: best_cpu_isa(), or BMC_ISA's choice (an unknown name, or one this CPU does not
// run, throws at the first call).
CpuIsa cpu_isa();
// Switches the kernels in use (tests, benchmarks); throws when this CPU does not run `isa`. Not
// for use while other threads run kernels.
void set_cpu_isa(CpuIsa isa);

// The one of three per-instruction-set objects that belongs to the instruction set in use.
template <class T>
const T& for_cpu_isa(const T& generic, const T& avx2, const T& avx512) {
  switch (cpu_isa()) {
    case CpuIsa::Avx2: return avx2;
    case CpuIsa::Avx512: return avx512;
    case CpuIsa::Generic: break;
  }
  return generic;
}

// Declares the three copies of a table of kernel entry points that an ISA source defines (as
// BMC_ISA_NS::name); BMC_CPU_ISA_TABLE(name) is the one in use.
#define BMC_DECLARE_CPU_ISA_TABLE(Type, name)  \
  namespace isa_generic {                      \
  extern const Type name;                      \
  }                                            \
  namespace isa_avx2 {                         \
  extern const Type name;                      \
  }                                            \
  namespace isa_avx512 {                       \
  extern const Type name;                      \
  }
#define BMC_CPU_ISA_TABLE(name) ::bmc::for_cpu_isa(isa_generic::name, isa_avx2::name, isa_avx512::name)

// RAII: the kernels of `isa` until the end of the scope, then the previous ones.
class ScopedCpuIsa {
 public:
  explicit ScopedCpuIsa(CpuIsa isa) : previous_(cpu_isa()) { set_cpu_isa(isa); }
  ~ScopedCpuIsa() { set_cpu_isa(previous_); }
  ScopedCpuIsa(const ScopedCpuIsa&) = delete;
  ScopedCpuIsa& operator=(const ScopedCpuIsa&) = delete;

 private:
  CpuIsa previous_;
};

}  // namespace bmc
