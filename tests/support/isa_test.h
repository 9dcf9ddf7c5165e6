// For the tests built once per instruction set (ISA_TEST_SRC in the Makefile), which call one
// copy of the CPU kernels directly (namespace isa below). Their suites are fixtures named
// BMC_ISA_SUITE(Name), Name_isa_generic, Name_isa_avx2 or Name_isa_avx512; each selects that
// instruction set's kernels for the library calls in the test too, and skips, counted, where
// this CPU does not run them.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "core/cpu_isa.h"
#include "core/isa_target.h"

#define BMC_ISA_CAT_(a, b) a##_##b
#define BMC_ISA_CAT(a, b) BMC_ISA_CAT_(a, b)
#define BMC_ISA_SUITE(name) BMC_ISA_CAT(name, BMC_ISA_NS)

namespace bmc::test::BMC_ISA_NS {

template <class Base = ::testing::Test>
class IsaKernelTest : public Base {
 protected:
  void SetUp() override {
    if (!cpu_isa_supported(BMC_ISA_THIS))
      GTEST_SKIP() << "this CPU does not run the " << cpu_isa_name(BMC_ISA_THIS) << " kernels";
    selected_.emplace(BMC_ISA_THIS);
  }
  void TearDown() override { selected_.reset(); }

 private:
  std::optional<ScopedCpuIsa> selected_;
};

}  // namespace bmc::test::BMC_ISA_NS
