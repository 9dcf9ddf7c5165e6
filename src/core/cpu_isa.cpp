#include "core/cpu_isa.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace bmc {

namespace {

CpuIsa isa_from_environment() {
  const char* forced = std::getenv("BMC_ISA");
  if (!forced || !*forced) return best_cpu_isa();
  for (CpuIsa isa : kCpuIsas)
    if (std::string(forced) == cpu_isa_name(isa)) {
      BMC_CHECK(cpu_isa_supported(isa), "BMC_ISA=", forced, ": this CPU does not run it (the widest it runs is ",
                cpu_isa_name(best_cpu_isa()), ")");
      return isa;
    }
  BMC_FAIL("BMC_ISA=", forced, ": unknown instruction set (generic, avx2 or avx512)");
}

CpuIsa& current() {
  static CpuIsa isa = isa_from_environment();
  return isa;
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Generic: return "generic";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
  }
  return "?";
}

bool cpu_isa_supported(CpuIsa isa) {
  if (isa == CpuIsa::Generic) return true;
#if defined(__x86_64__)
  // libgcc's checks include the OS's support for the vector state (XGETBV).
  __builtin_cpu_init();
  if (isa == CpuIsa::Avx2) return __builtin_cpu_supports("x86-64-v3");
  if (isa == CpuIsa::Avx512) return __builtin_cpu_supports("x86-64-v4");
#endif
  return false;
}

CpuIsa best_cpu_isa() {
  CpuIsa best = CpuIsa::Generic;
  for (CpuIsa isa : kCpuIsas)
    if (cpu_isa_supported(isa)) best = isa;
  return best;
}

CpuIsa cpu_isa() { return current(); }

void set_cpu_isa(CpuIsa isa) {
  BMC_CHECK(cpu_isa_supported(isa), "the ", cpu_isa_name(isa), " kernels need a CPU that runs ", cpu_isa_name(isa),
            "; this one runs at most ", cpu_isa_name(best_cpu_isa()));
  current() = isa;
}

}  // namespace bmc
