// The choice of CPU kernels by instruction set (core/cpu_isa.h): what this CPU runs, refusing
// what it does not, and the convolutions of every supported set against the generic ones at each
// ResNet shape class, through the library's own dispatch.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/cpu_isa.h"
#include "ops/conv2d.h"
#include "tests/support/compare.h"
#include "tests/support/process.h"

namespace bmc {
namespace {

TEST(CpuIsa, GenericRunsEverywhereAndTheBestIsSupported) {
  EXPECT_TRUE(cpu_isa_supported(CpuIsa::Generic));
  EXPECT_TRUE(cpu_isa_supported(best_cpu_isa()));
  EXPECT_TRUE(cpu_isa_supported(cpu_isa()));
  // The sets nest: a CPU that runs AVX-512 code runs AVX2 code.
  if (cpu_isa_supported(CpuIsa::Avx512)) {
    EXPECT_TRUE(cpu_isa_supported(CpuIsa::Avx2));
  }
  for (CpuIsa isa : kCpuIsas) EXPECT_FALSE(std::string(cpu_isa_name(isa)).empty());
}

TEST(CpuIsa, ASetThisCpuDoesNotRunIsRefused) {
  if (best_cpu_isa() == CpuIsa::Avx512) GTEST_SKIP() << "this CPU runs every instruction set";
  const CpuIsa before = cpu_isa();
  EXPECT_THROW(set_cpu_isa(CpuIsa::Avx512), Error);
  EXPECT_EQ(cpu_isa(), before);
}

// The CLI's machine code holds VEX or EVEX instructions (AVX and up) only inside the per-ISA
// kernels, the clones the loader picks (core/vector_loops.h) and SPARQ's integer GEMM paths, which
// run only where the CPU has them: no shared function, such as a standard-library template that
// a kernel instantiated, was built wider than the baseline.
TEST(CpuIsa, WideInstructionsStayInsideTheDispatchedCode) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the wider instruction sets are x86's";
#endif
  if (test::run_command("command -v objdump").code != 0) GTEST_SKIP() << "objdump is not installed";
  const std::string awk = R"(/^[0-9a-f]+ <.*>:$/ { name = $0; next }
      $2 ~ /^v[a-z0-9]+ / || $2 ~ /%[yz]mm|%k[0-7]/ {
        if (name !~ /isa_avx2|isa_avx512|arch_x86_64_v[34]|tile_avx2|tile_vnni/) wide[name]++
      }
      END { for (n in wide) print n; print "checked" })";
  const test::CommandResult r =
      test::run_command("objdump -d --no-show-raw-insn " + std::string(BMC_CLI_PATH) + " | awk -F'\\t' '" + awk + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "checked\n") << "functions with AVX instructions outside the dispatched code:\n" << r.output;
}

struct Case {
  int64_t n, c, h, k, r;
  ops::Conv2dParams p;
};

struct Gradients {
  Tensor y, dx, dw, db;
};

Gradients convolve(const Case& t) {
  const Tensor x = test::random_uniform({t.n, t.c, t.h, t.h}, 1), w = test::random_uniform({t.k, t.c, t.r, t.r}, 2);
  const Tensor b = test::random_uniform({t.k}, 3);
  const Shape out = ops::conv2d_output_shape(x.shape(), w.shape(), t.p);
  const Tensor dy = test::random_uniform(out, 4);
  Gradients g{Tensor(out), Tensor(x.shape()), Tensor::zeros(w.shape()), Tensor::zeros({t.k})};
  ops::conv2d_forward(g.y, x, w, b, t.p);
  ops::conv2d_backward(g.dx, g.dw, g.db, dy, x, w, t.p);
  return g;
}

// Each path of the CPU convolution: Winograd F(4x4) and F(2x2) (forward, input and filter
// gradients), taps read in place, stride-2 im2col and parity input gradient, 1x1 at stride 1 and
// 2, the 7x7 stem, the narrow filter gradient of a 3-channel layer; odd sizes and batch 1.
const Case kEveryPath[] = {{2, 16, 32, 16, 3, {1, 1, 1, 1}}, {2, 32, 16, 32, 3, {1, 1, 1, 1}},
                           {1, 9, 13, 17, 3, {1, 1, 1, 1}},  {2, 16, 16, 32, 3, {2, 2, 1, 1}},
                           {3, 7, 9, 5, 3, {2, 2, 1, 1}},    {2, 13, 6, 11, 1, {1, 1, 0, 0}},
                           {2, 16, 16, 32, 1, {2, 2, 0, 0}}, {1, 3, 23, 10, 7, {2, 2, 3, 3}},
                           {2, 3, 32, 16, 3, {1, 1, 1, 1}}};

std::string describe(CpuIsa isa, const Case& t) {
  return std::string(cpu_isa_name(isa)) + ": c " + std::to_string(t.c) + " h " + std::to_string(t.h) + " k " +
         std::to_string(t.k) + " r " + std::to_string(t.r) + " stride " + std::to_string(t.p.stride_h);
}

Gradients convolve_with(CpuIsa isa, const Case& t) {
  const ScopedCpuIsa kernels(isa);
  return convolve(t);
}

// The generic kernels (SSE multiply then add, no FMA) against every wider set: within rounding,
// which F(4x4, 3x3)'s transforms magnify (sums of up to 144 terms of |w x| < 1 differ by up to
// 3e-5 there).
TEST(CpuIsa, ConvolutionsAgreeWithTheGenericKernels) {
  int compared = 0;
  for (CpuIsa isa : kCpuIsas) {
    if (isa == CpuIsa::Generic || !cpu_isa_supported(isa)) continue;
    for (const Case& t : kEveryPath) {
      SCOPED_TRACE(describe(isa, t));
      const Gradients generic = convolve_with(CpuIsa::Generic, t), wide = convolve_with(isa, t);
      EXPECT_TRUE(test::all_close(wide.y, generic.y, 1e-4f, 1e-4f));
      EXPECT_TRUE(test::all_close(wide.dx, generic.dx, 1e-4f, 1e-4f));
      EXPECT_TRUE(test::all_close(wide.dw, generic.dw, 1e-3f, 1e-4f));
      EXPECT_TRUE(test::all_close(wide.db, generic.db, 1e-3f, 1e-4f));
      ++compared;
    }
  }
  if (compared == 0) GTEST_SKIP() << "this CPU runs only the generic kernels";
}

// AVX2 and AVX-512: the same multiply-adds in the same order at both widths, the same bits.
TEST(CpuIsa, AvxAndAvx512GiveTheSameBits) {
  if (!cpu_isa_supported(CpuIsa::Avx512)) GTEST_SKIP() << "this CPU does not run the avx512 kernels";
  for (const Case& t : kEveryPath) {
    SCOPED_TRACE(describe(CpuIsa::Avx512, t));
    const Gradients avx2 = convolve_with(CpuIsa::Avx2, t), avx512 = convolve_with(CpuIsa::Avx512, t);
    EXPECT_TRUE(test::bitwise_equal(avx512.y, avx2.y));
    EXPECT_TRUE(test::bitwise_equal(avx512.dx, avx2.dx));
    EXPECT_TRUE(test::bitwise_equal(avx512.dw, avx2.dw));
    EXPECT_TRUE(test::bitwise_equal(avx512.db, avx2.db));
  }
}

}  // namespace
}  // namespace bmc
