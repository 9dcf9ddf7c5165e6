// Winograd F(2x2, 3x3) and F(4x4, 3x3) (ops/winograd.h) against a direct convolution in double,
// at odd and even sizes down to 1x1 (rows that end inside a tile), channel counts off the GEMM's
// panel height, and buffers split into bands of tile rows; their results do not depend on how
// many images one call takes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ops/winograd.h"
#include "tests/support/compare.h"
#include "tests/support/isa_test.h"

namespace bmc {
namespace {

namespace isa = ops::BMC_ISA_NS;
class BMC_ISA_SUITE(Winograd) : public test::BMC_ISA_NS::IsaKernelTest<> {};

struct Case {
  int n, c, k, h, w;
};

// y (n, k, h, w) of the 3x3 convolution with padding 1, in double; and sum |w x| per output, the
// scale a float result's rounding error is relative to.
void direct(std::vector<double>& y, std::vector<double>& scale, const std::vector<float>& x,
            const std::vector<float>& w, const Case& s) {
  y.assign(static_cast<size_t>(s.n) * s.k * s.h * s.w, 0.0);
  scale.assign(y.size(), 0.0);
  for (int n = 0; n < s.n; ++n)
    for (int o = 0; o < s.k; ++o)
      for (int p = 0; p < s.h; ++p)
        for (int q = 0; q < s.w; ++q) {
          double sum = 0, abs_sum = 0;
          for (int i = 0; i < s.c; ++i)
            for (int r = 0; r < 3; ++r)
              for (int t = 0; t < 3; ++t) {
                const int a = p + r - 1, b = q + t - 1;
                if (a < 0 || a >= s.h || b < 0 || b >= s.w) continue;
                const double term = double{w[((o * s.c + i) * 3 + r) * 3 + t]} * x[((n * s.c + i) * s.h + a) * s.w + b];
                sum += term;
                abs_sum += std::fabs(term);
              }
          const size_t at = ((static_cast<size_t>(n) * s.k + o) * s.h + p) * s.w + q;
          y[at] = sum;
          scale[at] = abs_sum;
        }
}

class BMC_ISA_SUITE(WinogradTile) : public test::BMC_ISA_NS::IsaKernelTest<::testing::TestWithParam<int>> {};

TEST_P(BMC_ISA_SUITE(WinogradTile), MatchesDirectConvolutionWithinRounding) {
  const int tile = GetParam();
  const Case cases[] = {{1, 1, 1, 1, 1},     {2, 3, 5, 5, 7},     {3, 16, 16, 8, 8},  {1, 5, 9, 32, 33},
                        {2, 64, 64, 32, 32}, {4, 32, 24, 16, 16}, {1, 7, 3, 2, 9},    {2, 16, 16, 32, 32},
                        {1, 3, 4, 6, 70},    {1, 2, 3, 13, 11},   {1, 16, 16, 64, 64}};
  double worst_of_all = 0;
  for (const Case& s : cases) {
    const Tensor x = test::random_uniform({s.n, s.c, s.h, s.w}, 1, -1.0f, 1.0f);
    const Tensor w = test::random_uniform({s.k, s.c, 3, 3}, 2, -1.0f, 1.0f);
    const std::vector<float> xv = x.to_vector<float>(), wv = w.to_vector<float>();
    std::vector<double> expected, scale;
    direct(expected, scale, xv, wv, s);
    std::vector<float> y(expected.size(), std::nanf(""));
    const isa::WinogradFilter f = isa::winograd_filter(wv.data(), s.k, s.c, tile);
    isa::winograd_convolve(y.data(), xv.data(), s.n, f, s.h, s.w);
    double worst = 0;
    for (size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::fabs(y[i] - expected[i]) / std::max(1.0, scale[i]));
    // Direct float convolution errs by about 1e-7 of the scale; the transforms add a few roundings
    // (2x2), or a few more through the inexact filter coefficients and larger sums (4x4).
    EXPECT_LT(worst, tile == 2 ? 2e-6 : 1e-5) << s.n << "x" << s.c << "x" << s.h << "x" << s.w << " -> " << s.k;
    worst_of_all = std::max(worst_of_all, worst);
  }
  RecordProperty("worst_relative_error", std::to_string(worst_of_all));
  std::printf("F(%dx%d, 3x3): worst error %.3g of sum |w x|\n", tile, tile, worst_of_all);
}

TEST_P(BMC_ISA_SUITE(WinogradTile), ImagesPerCallDoNotChangeTheBits) {
  for (const Case& s : {Case{5, 16, 16, 32, 32}, Case{5, 64, 64, 8, 8}, Case{5, 3, 5, 7, 5}}) {
    const Tensor x = test::random_uniform({s.n, s.c, s.h, s.w}, 3);
    const Tensor w = test::random_uniform({s.k, s.c, 3, 3}, 4);
    const std::vector<float> xv = x.to_vector<float>(), wv = w.to_vector<float>();
    const isa::WinogradFilter f = isa::winograd_filter(wv.data(), s.k, s.c, GetParam());
    const size_t out_image = static_cast<size_t>(s.k) * s.h * s.w, in_image = static_cast<size_t>(s.c) * s.h * s.w;
    std::vector<float> together(out_image * s.n), alone(out_image * s.n);
    isa::winograd_convolve(together.data(), xv.data(), s.n, f, s.h, s.w);
    for (int n = 0; n < s.n; ++n)
      isa::winograd_convolve(alone.data() + n * out_image, xv.data() + n * in_image, 1, f, s.h, s.w);
    EXPECT_EQ(together, alone) << s.c << "x" << s.h;
  }
}

// (Through a macro of our own, so that the suite's name is expanded before gtest pastes it.)
#define BMC_INSTANTIATE_TILES(suite) INSTANTIATE_TEST_SUITE_P(Tiles, suite, ::testing::Values(2, 4))
BMC_INSTANTIATE_TILES(BMC_ISA_SUITE(WinogradTile));

// dw (k, c, 3, 3) of the 3x3 convolution with padding 1, in double, and sum |dy x| per tap.
void direct_filter_gradient(std::vector<double>& dw, std::vector<double>& scale, const std::vector<float>& x,
                            const std::vector<float>& dy, const Case& s) {
  dw.assign(static_cast<size_t>(s.k) * s.c * 9, 0.0);
  scale.assign(dw.size(), 0.0);
  for (int o = 0; o < s.k; ++o)
    for (int i = 0; i < s.c; ++i)
      for (int r = 0; r < 3; ++r)
        for (int t = 0; t < 3; ++t) {
          double sum = 0, abs_sum = 0;
          for (int n = 0; n < s.n; ++n)
            for (int p = 0; p < s.h; ++p)
              for (int q = 0; q < s.w; ++q) {
                const int a = p + r - 1, b = q + t - 1;
                if (a < 0 || a >= s.h || b < 0 || b >= s.w) continue;
                const double term =
                    double{dy[((n * s.k + o) * s.h + p) * s.w + q]} * x[((n * s.c + i) * s.h + a) * s.w + b];
                sum += term;
                abs_sum += std::fabs(term);
              }
          const size_t at = ((static_cast<size_t>(o) * s.c + i) * 3 + r) * 3 + t;
          dw[at] = sum;
          scale[at] = abs_sum;
        }
}

// The filter gradient in F(2x2, 3x3)'s domain: odd sizes (half tiles on the last row and
// column), batch 1, output channels off the panel height, several GEMM batches in one call.
TEST_F(BMC_ISA_SUITE(Winograd), FilterGradientMatchesTheDirectSumWithinRounding) {
  const Case cases[] = {{1, 16, 16, 8, 8}, {3, 16, 17, 7, 9}, {2, 33, 24, 5, 6}, {1, 16, 40, 1, 3},
                        {9, 32, 32, 16, 16}, {2, 20, 16, 11, 13}};
  double worst_of_all = 0;
  for (const Case& s : cases) {
    const Tensor x = test::random_uniform({s.n, s.c, s.h, s.w}, 5, -1.0f, 1.0f);
    const Tensor dy = test::random_uniform({s.n, s.k, s.h, s.w}, 6, -1.0f, 1.0f);
    const std::vector<float> xv = x.to_vector<float>(), dyv = dy.to_vector<float>();
    std::vector<double> expected, scale;
    direct_filter_gradient(expected, scale, xv, dyv, s);
    std::vector<float> du(static_cast<size_t>(isa::winograd_filter_gradient_size(s.c, s.k)), 0.0f);
    isa::winograd_filter_gradient_accumulate(du.data(), xv.data(), dyv.data(), s.n, s.c, s.k, s.h, s.w);
    std::vector<float> dw(expected.size(), 0.25f);  // accumulated into
    isa::winograd_filter_gradient_finish(dw.data(), du.data(), s.c, s.k);
    double worst = 0;
    for (size_t i = 0; i < dw.size(); ++i)
      worst = std::max(worst, std::fabs(dw[i] - 0.25 - expected[i]) / std::max(1.0, scale[i]));
    // A float sum over the batch's pixels errs by about 1e-7 of the scale a term; the transforms
    // add a few roundings of terms up to 4x larger.
    EXPECT_LT(worst, 2e-6) << s.n << "x" << s.c << "x" << s.h << "x" << s.w << " -> " << s.k;
    worst_of_all = std::max(worst_of_all, worst);
  }
  RecordProperty("worst_relative_error", std::to_string(worst_of_all));
  std::printf("F(2x2, 3x3) filter gradient: worst error %.3g of sum |dy x|\n", worst_of_all);
}

TEST_F(BMC_ISA_SUITE(Winograd), FilterGradientTakesSixteenChannelsAndStrideOne) {
  const ops::ConvGeometry resnet{16, 32, 32, 3, 3, 32, 32, 1, 1, 1, 1};
  EXPECT_TRUE(isa::winograd_filter_gradient_fits(resnet, 16));
  EXPECT_FALSE(isa::winograd_filter_gradient_fits(resnet, 8));
  const ops::ConvGeometry stem{3, 32, 32, 3, 3, 32, 32, 1, 1, 1, 1};
  EXPECT_FALSE(isa::winograd_filter_gradient_fits(stem, 16));
  ops::ConvGeometry strided{16, 32, 32, 3, 3, 16, 16, 2, 2, 1, 1};
  EXPECT_FALSE(isa::winograd_filter_gradient_fits(strided, 32));
}

TEST_F(BMC_ISA_SUITE(Winograd), TilesOnlyThreeByThreeStrideOnePaddingOne) {
  const ops::ConvGeometry resnet{32, 16, 16, 3, 3, 16, 16, 1, 1, 1, 1};
  EXPECT_EQ(isa::winograd_tile(resnet, 32), 2);
  const ops::ConvGeometry stage1{16, 32, 32, 3, 3, 32, 32, 1, 1, 1, 1};
  EXPECT_EQ(isa::winograd_tile(stage1, 16), 4);  // 16 channels on 32-wide rows: 4x4 tiles
  const ops::ConvGeometry narrow{16, 16, 16, 3, 3, 16, 16, 1, 1, 1, 1};
  EXPECT_EQ(isa::winograd_tile(narrow, 16), 0);  // 16 channels on short rows: direct
  EXPECT_EQ(isa::winograd_tile(stage1, 8), 0);
  ops::ConvGeometry strided = resnet;
  strided.stride_h = strided.stride_w = 2;
  EXPECT_EQ(isa::winograd_tile(strided, 32), 0);
  ops::ConvGeometry unpadded = resnet;
  unpadded.pad_h = unpadded.pad_w = 0;
  EXPECT_EQ(isa::winograd_tile(unpadded, 32), 0);
  const ops::ConvGeometry wide{512, 7, 7, 3, 3, 7, 7, 1, 1, 1, 1};
  EXPECT_EQ(isa::winograd_tile(wide, 512), 0);  // one GEMM would cover too few tiles
  const ops::ConvGeometry imagenet{64, 56, 56, 3, 3, 56, 56, 1, 1, 1, 1};
  EXPECT_EQ(isa::winograd_tile(imagenet, 64), 2);  // 4x4's 36 positions would cover too few
}

}  // namespace
}  // namespace bmc
