// The register-blocked GEMM behind CPU convolutions: against a double-precision reference over
// shapes with row and column tails, accumulation, and independence of the tiling (any column
// range computed alone gives the same bits); the convolution on it against the OpenBLAS path at
// every ResNet shape class.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ops/conv2d.h"
#include "ops/small_gemm.h"
#include "tests/support/compare.h"
#include "tests/support/isa_test.h"

namespace bmc {
namespace {

namespace isa = ops::BMC_ISA_NS;
class BMC_ISA_SUITE(SmallGemm) : public test::BMC_ISA_NS::IsaKernelTest<> {};

std::vector<float> values(int64_t n, uint64_t seed) {
  const Tensor t = test::random_uniform({n}, seed);
  return t.to_vector<float>();
}

// Each copy of the kernels is compiled for its own instruction set (core/isa_target.h).
TEST_F(BMC_ISA_SUITE(SmallGemm), IsBuiltForItsInstructionSet) {
  const char* expected[] = {BMC_ISA_X86 ? "sse" : "scalar", "avx2", "avx512"};
  EXPECT_STREQ(isa::small_gemm_isa(), expected[static_cast<int>(BMC_ISA_THIS)]);
}

TEST_F(BMC_ISA_SUITE(SmallGemm), MatchesADoublePrecisionProductWithTails) {
  for (const auto& [m, n, k] : std::vector<std::array<int64_t, 3>>{
           {1, 1, 1}, {7, 53, 13}, {8, 48, 9}, {9, 17, 5}, {16, 64, 576}, {3, 100, 2}, {24, 33, 31}, {5, 96, 1}, {13, 50, 700}}) {  // 700: inner blocks
    const auto a = values(m * k, 1), b = values(k * n, 2), c0 = values(m * n, 3);
    const std::vector<float> panels = isa::pack_gemm_panels(a.data(), m, k, k, 1);
    for (bool accumulate : {false, true}) {
      std::vector<float> c = c0;
      isa::small_gemm(m, n, k, panels.data(), b.data(), n, c.data(), n, accumulate);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double expected = accumulate ? c0[i * n + j] : 0.0;
          for (int64_t p = 0; p < k; ++p) expected += double(a[i * k + p]) * b[p * n + j];
          ASSERT_NEAR(c[i * n + j], expected, 1e-5 * (1 + std::fabs(expected)))
              << m << "x" << n << "x" << k << " at (" << i << ", " << j << ")" << (accumulate ? " accumulating" : "");
        }
    }
  }
}

TEST_F(BMC_ISA_SUITE(SmallGemm), AColumnRangeAloneGivesTheSameBits) {
  const int64_t m = 11, n = 77, k = 29;
  const auto a = values(m * k, 4), b = values(k * n, 5);
  const std::vector<float> panels = isa::pack_gemm_panels(a.data(), m, k, k, 1);
  std::vector<float> whole(m * n), part(m * n, 0.0f);
  isa::small_gemm(m, n, k, panels.data(), b.data(), n, whole.data(), n, false);
  for (int64_t first : {0, 5, 16, 40}) {
    const int64_t width = std::min<int64_t>(n - first, 19);
    isa::small_gemm(m, width, k, panels.data(), b.data() + first, n, part.data() + first, n, false);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = first; j < first + width; ++j) ASSERT_EQ(part[i * n + j], whole[i * n + j]) << i << ", " << j;
  }
}

TEST_F(BMC_ISA_SUITE(SmallGemm), PanelsPackRowsOrColumnsOfTheSource) {
  // A 3 x 2 source read as rows (row stride 2) and as its transpose (column stride 3).
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<float> rows = isa::pack_gemm_panels(a.data(), 3, 2, 2, 1);
  ASSERT_EQ(rows.size(), 16u);  // one panel of 8 rows x 2
  EXPECT_EQ(rows[0 * 8 + 0], 1);
  EXPECT_EQ(rows[0 * 8 + 2], 5);
  EXPECT_EQ(rows[1 * 8 + 1], 4);
  EXPECT_EQ(rows[1 * 8 + 3], 0) << "rows past M are zero";
  const std::vector<float> transposed = isa::pack_gemm_panels(a.data(), 2, 3, 1, 2);
  EXPECT_EQ(transposed[0 * 8 + 1], 2);
  EXPECT_EQ(transposed[2 * 8 + 0], 5);
}

// The convolution on our GEMM against the same convolution on OpenBLAS: every ResNet shape
// class (3x3 stride 1 and 2, 1x1 stride 1 and 2, the 7x7 stem), odd channel counts, batch 1.
TEST_F(BMC_ISA_SUITE(SmallGemm), ConvolutionsMatchTheOpenBlasPath) {
  struct Case {
    int64_t n, c, h, k, r;
    ops::Conv2dParams p;
  };
  for (const Case& t : {Case{2, 16, 8, 16, 3, {1, 1, 1, 1}}, Case{2, 16, 16, 16, 3, {1, 1, 1, 1}},
                        Case{1, 9, 33, 17, 3, {1, 1, 1, 1}}, Case{3, 7, 9, 5, 3, {2, 2, 1, 1}}, Case{2, 13, 6, 11, 1, {1, 1, 0, 0}},
                        Case{2, 8, 8, 24, 1, {2, 2, 0, 0}}, Case{1, 3, 23, 10, 7, {2, 2, 3, 3}}, Case{1, 33, 5, 3, 3, {1, 1, 1, 1}}}) {
    const Tensor x = test::random_uniform({t.n, t.c, t.h, t.h}, 1), w = test::random_uniform({t.k, t.c, t.r, t.r}, 2);
    const Shape out = ops::conv2d_output_shape(x.shape(), w.shape(), t.p);
    const Tensor dy = test::random_uniform(out, 3);
    Tensor y[2] = {Tensor(out), Tensor(out)}, dx[2] = {Tensor(x.shape()), Tensor(x.shape())};
    for (int g = 0; g < 2; ++g) {
      ops::set_conv_gemm(g == 0 ? ops::ConvGemm::Own : ops::ConvGemm::OpenBlas);
      Tensor none;
      ops::conv2d_forward(y[g], x, w, Tensor(), t.p);
      ops::conv2d_backward(dx[g], none, none, dy, x, w, t.p);
    }
    ops::set_conv_gemm(ops::ConvGemm::Own);
    SCOPED_TRACE(testing::Message() << "c " << t.c << " h " << t.h << " k " << t.k << " r " << t.r << " stride " << t.p.stride_h);
    EXPECT_TRUE(test::all_close(y[0], y[1], 1e-5f, 1e-5f));
    EXPECT_TRUE(test::all_close(dx[0], dx[1], 1e-5f, 1e-5f));
  }
}

}  // namespace
}  // namespace bmc
