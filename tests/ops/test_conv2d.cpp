// conv2d: closed forms, the fast CPU path (im2col + sgemm, per-image OpenMP) against a direct
// seven-loop reference over many shapes, finite-difference gradients, bad inputs, and GPU parity
// (skipped without a device).
#include <gtest/gtest.h>
#include <omp.h>

#include <vector>

#include "ops/conv2d.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"
#if BMC_HAS_CUDA
#include "core/cuda_context.h"
#endif

namespace bmc {
namespace {

using ops::Conv2dParams;

// --- direct reference: the definition, one output (or gradient) element at a time

struct RefDims {
  int64_t n, c, h, w, k, r, s, p, q;
};

RefDims ref_dims(const Tensor& x, const Tensor& w, const Conv2dParams& cp) {
  const Shape y = ops::conv2d_output_shape(x.shape(), w.shape(), cp);
  return {x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3), y[2], y[3]};
}

// Input pixel read by output (op, oq) through tap (r, s), or false if it is padding.
bool input_pixel(const RefDims& d, const Conv2dParams& cp, int64_t op, int64_t oq, int64_t r, int64_t s,
                 int64_t& ih, int64_t& iw) {
  ih = op * cp.stride_h - cp.pad_h + r;
  iw = oq * cp.stride_w - cp.pad_w + s;
  return ih >= 0 && ih < d.h && iw >= 0 && iw < d.w;
}

Tensor reference_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& cp) {
  const RefDims d = ref_dims(x, w, cp);
  Tensor y({d.n, d.k, d.p, d.q});
  const float *xv = x.data<float>(), *wv = w.data<float>();
  float* yv = y.data<float>();
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t k = 0; k < d.k; ++k)
      for (int64_t op = 0; op < d.p; ++op)
        for (int64_t oq = 0; oq < d.q; ++oq) {
          float sum = b.defined() ? b.data<float>()[k] : 0.0f;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t r = 0; r < d.r; ++r)
              for (int64_t s = 0; s < d.s; ++s) {
                int64_t ih, iw;
                if (!input_pixel(d, cp, op, oq, r, s, ih, iw)) continue;
                sum += xv[((n * d.c + c) * d.h + ih) * d.w + iw] * wv[((k * d.c + c) * d.r + r) * d.s + s];
              }
          yv[((n * d.k + k) * d.p + op) * d.q + oq] = sum;
        }
  return y;
}

struct RefGrads {
  Tensor dx, dw, db;
};

RefGrads reference_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Conv2dParams& cp) {
  const RefDims d = ref_dims(x, w, cp);
  RefGrads g{Tensor::zeros(x.shape()), Tensor::zeros(w.shape()), Tensor::zeros({d.k})};
  const float *xv = x.data<float>(), *wv = w.data<float>(), *dyv = dy.data<float>();
  float *dx = g.dx.data<float>(), *dw = g.dw.data<float>(), *db = g.db.data<float>();
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t k = 0; k < d.k; ++k)
      for (int64_t op = 0; op < d.p; ++op)
        for (int64_t oq = 0; oq < d.q; ++oq) {
          const float gy = dyv[((n * d.k + k) * d.p + op) * d.q + oq];
          db[k] += gy;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t r = 0; r < d.r; ++r)
              for (int64_t s = 0; s < d.s; ++s) {
                int64_t ih, iw;
                if (!input_pixel(d, cp, op, oq, r, s, ih, iw)) continue;
                const int64_t xi = ((n * d.c + c) * d.h + ih) * d.w + iw, wi = ((k * d.c + c) * d.r + r) * d.s + s;
                dx[xi] += gy * wv[wi];
                dw[wi] += gy * xv[xi];
              }
        }
  return g;
}

// --- closed forms

TEST(Conv2d, OutputShape) {
  EXPECT_EQ(ops::conv2d_output_shape({2, 3, 32, 32}, {16, 3, 3, 3}, {1, 1, 1, 1}), (Shape{2, 16, 32, 32}));
  EXPECT_EQ(ops::conv2d_output_shape({2, 16, 32, 32}, {32, 16, 3, 3}, {2, 2, 1, 1}), (Shape{2, 32, 16, 16}));
  EXPECT_EQ(ops::conv2d_output_shape({2, 16, 32, 32}, {32, 16, 1, 1}, {2, 2, 0, 0}), (Shape{2, 32, 16, 16}));
  EXPECT_EQ(ops::conv2d_output_shape({3, 5, 5, 7}, {6, 5, 5, 3}, {2, 1, 2, 0}), (Shape{3, 6, 3, 5}));
}

TEST(Conv2d, ForwardClosedForm) {
  // 3x3 input 1..9, 2x2 filter of ones plus bias 0.5: sums of each 2x2 block.
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = Tensor::full({1, 1, 2, 2}, 1.0f);
  const Tensor b = Tensor::from_vector<float>({0.5f}, {1});
  Tensor y({1, 1, 2, 2});
  ops::conv2d_forward(y, x, w, b, {});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f}));
  // Padding 1, stride 2 with a 1x1 filter of 2: corners... the padded frame's even positions.
  Tensor y2({1, 1, 3, 3});
  ops::conv2d_forward(y2, x, Tensor::full({1, 1, 1, 1}, 2.0f), Tensor(), {2, 2, 1, 1});
  EXPECT_EQ(y2.to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 10, 0, 0, 0, 0}));
}

TEST(Conv2d, BackwardClosedForm) {
  // y = sum of 2x2 blocks of a 3x3 input; dy = 1 everywhere: dx counts the windows covering each
  // pixel, dw[r, s] sums the pixels the tap sees, db sums dy.
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = Tensor::full({1, 1, 2, 2}, 1.0f);
  Tensor dx({1, 1, 3, 3}), dw = Tensor::zeros({1, 1, 2, 2}), db = Tensor::zeros({1});
  ops::conv2d_backward(dx, dw, db, Tensor::full({1, 1, 2, 2}, 1.0f), x, w, {});
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
  EXPECT_EQ(dw.to_vector<float>(), (std::vector<float>{12, 16, 24, 28}));
  EXPECT_EQ(db.to_vector<float>(), (std::vector<float>{4}));
}

// --- fast path against the reference

struct ConvCase {
  int n, c, h, w, k, r, s;
  Conv2dParams p;
};

void PrintTo(const ConvCase& t, std::ostream* os) {
  *os << "n" << t.n << " c" << t.c << " " << t.h << "x" << t.w << " k" << t.k << " " << t.r << "x" << t.s
      << " stride(" << t.p.stride_h << "," << t.p.stride_w << ") pad(" << t.p.pad_h << "," << t.p.pad_w << ")";
}

class Conv2dReference : public ::testing::TestWithParam<ConvCase> {};

// Small-integer data: every sum is exact in f32 whatever the order, so the fast path must agree
// with the reference bitwise.
TEST_P(Conv2dReference, MatchesDirectLoopsExactly) {
  const ConvCase t = GetParam();
  const Tensor x = test::random_small_ints({t.n, t.c, t.h, t.w}, 1);
  const Tensor w = test::random_small_ints({t.k, t.c, t.r, t.s}, 2);
  const Tensor b = test::random_small_ints({t.k}, 3);
  const Shape out = ops::conv2d_output_shape(x.shape(), w.shape(), t.p);
  Tensor y = Tensor::full(out, 1e9f);
  ops::conv2d_forward(y, x, w, b, t.p);
  EXPECT_TRUE(test::bitwise_equal(y, reference_forward(x, w, b, t.p)));

  const Tensor dy = test::random_small_ints(out, 4);
  const RefGrads ref = reference_backward(dy, x, w, t.p);
  Tensor dx = Tensor::full(x.shape(), 1e9f);  // overwritten
  Tensor dw = Tensor::zeros(w.shape()), db = Tensor::zeros({t.k});
  ops::conv2d_backward(dx, dw, db, dy, x, w, t.p);
  EXPECT_TRUE(test::bitwise_equal(dx, ref.dx));
  EXPECT_TRUE(test::bitwise_equal(dw, ref.dw));
  EXPECT_TRUE(test::bitwise_equal(db, ref.db));
}

// Real-valued data: the summation order differs, so compare by NMSE.
TEST_P(Conv2dReference, MatchesDirectLoopsOnFloats) {
  const ConvCase t = GetParam();
  const Tensor x = test::random_uniform({t.n, t.c, t.h, t.w}, 5);
  const Tensor w = test::random_uniform({t.k, t.c, t.r, t.s}, 6);
  const Tensor b = test::random_uniform({t.k}, 7);
  const Shape out = ops::conv2d_output_shape(x.shape(), w.shape(), t.p);
  Tensor y(out);
  ops::conv2d_forward(y, x, w, b, t.p);
  EXPECT_TRUE(test::nmse_below(y, reference_forward(x, w, b, t.p), test::tol::kReductionNmse));
  const Tensor dy = test::random_uniform(out, 8);
  const RefGrads ref = reference_backward(dy, x, w, t.p);
  Tensor dx(x.shape()), dw = Tensor::zeros(w.shape()), db = Tensor::zeros({t.k});
  ops::conv2d_backward(dx, dw, db, dy, x, w, t.p);
  EXPECT_TRUE(test::nmse_below(dx, ref.dx, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(dw, ref.dw, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(db, ref.db, test::tol::kReductionNmse));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2dReference,
    ::testing::Values(
        ConvCase{1, 1, 3, 3, 1, 3, 3, {1, 1, 0, 0}},      // filter covers the input: one output
        ConvCase{1, 3, 5, 7, 4, 3, 3, {1, 1, 1, 1}},      // batch 1: serial loop, threaded BLAS
        ConvCase{3, 3, 5, 7, 5, 3, 3, {1, 1, 1, 1}},      // batch 3: uneven split over threads
        ConvCase{3, 5, 5, 7, 6, 3, 3, {2, 2, 0, 0}},
        ConvCase{3, 6, 5, 7, 3, 5, 5, {1, 1, 2, 2}},
        ConvCase{3, 5, 5, 7, 6, 5, 5, {2, 2, 2, 2}},
        ConvCase{4, 6, 5, 7, 5, 1, 1, {2, 2, 0, 0}},      // 1x1 stride 2 (shortcut)
        ConvCase{4, 3, 5, 7, 6, 1, 1, {1, 1, 0, 0}},      // 1x1 stride 1: no im2col
        ConvCase{2, 3, 5, 7, 2, 1, 1, {1, 1, 1, 1}},      // 1x1 with padding: im2col again
        ConvCase{3, 4, 9, 6, 3, 3, 2, {3, 2, 1, 0}},      // non-square filter, mixed strides
        ConvCase{2, 2, 6, 11, 3, 2, 4, {1, 3, 0, 2}},     // padding on one axis only
        ConvCase{5, 7, 8, 8, 9, 3, 3, {2, 2, 1, 1}},      // stride 2 with even size
        ConvCase{2, 3, 4, 4, 2, 3, 3, {1, 1, 2, 2}},      // padding larger than needed
        ConvCase{3, 2, 7, 5, 3, 7, 5, {1, 1, 0, 0}},      // filter = input: 1x1 output
        ConvCase{6, 16, 8, 8, 8, 3, 3, {1, 1, 1, 1}},     // ResNet-like, small
        ConvCase{3, 3, 32, 32, 4, 3, 3, {1, 1, 1, 1}},    // the stem shape
        ConvCase{3, 2, 9, 14, 6, 2, 2, {1, 1, 0, 0}},     // narrow filter gradient: 2 columns, a tail of each kind
        ConvCase{2, 1, 20, 20, 9, 3, 3, {1, 1, 1, 1}},    // one channel, 9 outputs (blocks of 4, 4, 1)
        // Stride 1 on wide images: taps read in place from the padded image, and the input
        // gradient as a convolution by the flipped filter.
        ConvCase{2, 5, 17, 19, 7, 3, 3, {1, 1, 1, 1}},
        ConvCase{2, 3, 20, 24, 4, 5, 5, {1, 1, 2, 2}},
        ConvCase{2, 4, 12, 30, 3, 3, 3, {1, 1, 0, 0}},    // no padding
        ConvCase{1, 9, 6, 26, 2, 1, 3, {1, 1, 0, 1}},     // 1x3 filter, padding on one axis
        ConvCase{2, 2, 7, 25, 3, 3, 3, {1, 1, 3, 3}},     // padding beyond R - 1: im2col for dx
        // Filter gradients read in place from a channels-last image (S*C >= 16): odd channel and
        // output counts, mixed strides, widths with a tail past the 8 x 8 transposes.
        ConvCase{1, 17, 6, 9, 11, 3, 3, {2, 1, 1, 0}},
        ConvCase{3, 20, 7, 7, 13, 1, 1, {2, 2, 0, 0}},    // 1x1 stride 2
        ConvCase{2, 6, 9, 9, 5, 7, 7, {2, 2, 3, 3}},      // the ImageNet stem's shape class
        ConvCase{2, 24, 12, 20, 10, 3, 3, {1, 1, 1, 1}},
        // A column matrix of 100 KB a row: the forward multiplies bands of 2 output rows, the
        // last band 1 row.
        ConvCase{2, 40, 26, 26, 5, 7, 7, {2, 2, 3, 3}},
        // 40 small images: up to 22 side by side in the input gradient's product (as many as a
        // thread's share).
        ConvCase{40, 3, 6, 6, 4, 3, 3, {2, 2, 1, 1}},
        // 3x3 stride 1 padding 1 with 32 and more channels: Winograd's F(2x2, 3x3) forward and
        // input gradient (exact on small integers too: its coefficients are halves), odd counts
        // and sizes, images grouped unevenly.
        ConvCase{3, 32, 8, 8, 33, 3, 3, {1, 1, 1, 1}},
        ConvCase{5, 35, 7, 9, 32, 3, 3, {1, 1, 1, 1}},
        ConvCase{2, 64, 16, 16, 64, 3, 3, {1, 1, 1, 1}},
        // The filter gradient in F(2x2, 3x3)'s domain (16 and more channels in and out): batch 1,
        // odd sizes, an output-channel count with a tail panel (17; 33 above).
        ConvCase{1, 16, 5, 7, 17, 3, 3, {1, 1, 1, 1}},
        // Stride-2 3x3 with long output rows, im2col from the rows split by column parity:
        // padding 1, 0 and 2, odd sizes.
        ConvCase{2, 5, 32, 32, 7, 3, 3, {2, 2, 1, 1}},
        ConvCase{2, 3, 33, 31, 4, 3, 3, {2, 2, 0, 0}},
        ConvCase{1, 4, 30, 34, 3, 3, 3, {2, 2, 2, 2}},
        // Their input gradient with padding 1 as four products by parity of the input pixel:
        // odd heights and widths (parities of unequal size), batch 1, odd channel counts, and
        // short products (16x17: 71 columns).
        ConvCase{2, 3, 33, 31, 5, 3, 3, {2, 2, 1, 1}},
        ConvCase{1, 7, 29, 36, 9, 3, 3, {2, 2, 1, 1}},
        ConvCase{3, 6, 16, 17, 10, 3, 3, {2, 2, 1, 1}},
        // Horizontal stride 2 through im2col: the rows split by column parity, with padding 2
        // (even) on an odd width of two vectors of pairs and a tail, and stride 3 down the rows.
        ConvCase{2, 6, 10, 35, 5, 3, 3, {2, 2, 2, 2}},
        ConvCase{2, 3, 11, 19, 4, 3, 3, {3, 2, 1, 1}},
        // 1x1 strided without padding: the input gradient written pixel by pixel, no col2im sums.
        ConvCase{2, 3, 7, 10, 4, 1, 1, {3, 3, 0, 0}},
        ConvCase{2, 3, 6, 21, 4, 1, 1, {1, 2, 0, 0}},
        // Filters beyond L2 on small images: the filter gradient over groups of images side by
        // side (the chunks' 3 and 4 images).
        ConvCase{24, 600, 2, 2, 500, 1, 1, {2, 2, 0, 0}},
        ConvCase{20, 300, 3, 3, 100, 3, 3, {2, 2, 1, 1}}));

// Winograd's 4x4 tiles (16 channels on rows of 32 and more) are not exact on small integers (its
// filter transform has sixths): against the direct loops on floats, forward and input gradient.
TEST(Conv2d, FourByFourWinogradMatchesTheDirectLoops) {
  const Conv2dParams p{1, 1, 1, 1};
  for (const Shape& shape : {Shape{3, 16, 32, 33}, Shape{2, 17, 35, 40}}) {
    const int64_t k = shape[1] == 16 ? 16 : 19;
    const Tensor x = test::random_uniform(shape, 21), w = test::random_uniform({k, shape[1], 3, 3}, 22);
    Tensor y(ops::conv2d_output_shape(x.shape(), w.shape(), p));
    ops::conv2d_forward(y, x, w, Tensor(), p);
    EXPECT_TRUE(test::nmse_below(y, reference_forward(x, w, Tensor(), p), test::tol::kReductionNmse)) << shape.str();
    const Tensor dy = test::random_uniform(y.shape(), 23);
    const RefGrads ref = reference_backward(dy, x, w, p);
    Tensor dx(x.shape()), none;
    ops::conv2d_backward(dx, none, none, dy, x, w, p);
    EXPECT_TRUE(test::nmse_below(dx, ref.dx, test::tol::kReductionNmse)) << shape.str();
  }
}

TEST(Conv2d, BackwardAccumulatesParamGradsAndOverwritesDx) {
  const Conv2dParams p{2, 2, 1, 1};
  const Tensor x = test::random_small_ints({3, 4, 5, 7}, 10), w = test::random_small_ints({5, 4, 3, 3}, 11);
  const Tensor dy = test::random_small_ints(ops::conv2d_output_shape(x.shape(), w.shape(), p), 12);
  Tensor dx1(x.shape()), dw1 = Tensor::zeros(w.shape()), db1 = Tensor::zeros({5});
  ops::conv2d_backward(dx1, dw1, db1, dy, x, w, p);
  Tensor dx2 = Tensor::full(x.shape(), 7.0f), dw2 = Tensor::full(w.shape(), 3.0f), db2 = Tensor::full({5}, 3.0f);
  ops::conv2d_backward(dx2, dw2, db2, dy, x, w, p);
  ops::conv2d_backward(dx2, dw2, db2, dy, x, w, p);
  EXPECT_TRUE(test::bitwise_equal(dx2, dx1));
  std::vector<float> dw_expected = dw1.to_vector<float>(), db_expected = db1.to_vector<float>();
  for (float& v : dw_expected) v = 2 * v + 3;
  for (float& v : db_expected) v = 2 * v + 3;
  EXPECT_EQ(dw2.to_vector<float>(), dw_expected);
  EXPECT_EQ(db2.to_vector<float>(), db_expected);
}

TEST(Conv2d, BackwardSkipsUndefinedGradients) {
  const Conv2dParams p{1, 1, 1, 1};
  const Tensor x = test::random_small_ints({4, 3, 5, 7}, 13), w = test::random_small_ints({2, 3, 3, 3}, 14);
  const Tensor dy = test::random_small_ints(ops::conv2d_output_shape(x.shape(), w.shape(), p), 15);
  Tensor dx(x.shape()), dw = Tensor::zeros(w.shape()), db = Tensor::zeros({2}), none;
  ops::conv2d_backward(dx, dw, db, dy, x, w, p);
  Tensor dx_only(x.shape()), dw_only = Tensor::zeros(w.shape()), db_only = Tensor::zeros({2});
  ops::conv2d_backward(dx_only, none, none, dy, x, w, p);
  ops::conv2d_backward(none, dw_only, none, dy, x, w, p);
  ops::conv2d_backward(none, none, db_only, dy, x, w, p);
  EXPECT_TRUE(test::bitwise_equal(dx_only, dx));
  EXPECT_TRUE(test::bitwise_equal(dw_only, dw));
  EXPECT_TRUE(test::bitwise_equal(db_only, db));
}

// The dw partials belong to fixed chunks of images, summed in chunk order, and there are as many
// chunks with one thread as with two while the partials are small: no result may depend on the
// thread count.
TEST(Conv2d, SameResultWithOneThread) {
  const Conv2dParams p{1, 1, 1, 1};
  // 4 channels: the narrow filter gradient; 16 and 21 images of 16 channels: in place, 21
  // split unevenly over the threads; 32 channels in and out: Winograd's 2x2 tiles, 7 images in
  // uneven groups; 16 channels in and out on 32-wide rows: its 4x4 tiles.
  struct Case {
    int64_t n, c, k, side;
  };
  for (const Case& s : {Case{6, 4, 3, 6}, Case{16, 16, 3, 6}, Case{21, 16, 3, 6}, Case{7, 32, 32, 6}, Case{5, 16, 16, 32}}) {
    const int64_t n = s.n, c = s.c, k = s.k;
    const Tensor x = test::random_uniform({n, c, s.side, s.side}, 16), w = test::random_uniform({k, c, 3, 3}, 17);
    const Tensor dy = test::random_uniform(ops::conv2d_output_shape(x.shape(), w.shape(), p), 18);
    Tensor y(dy.shape()), dx(x.shape()), dw = Tensor::zeros(w.shape()), db = Tensor::zeros({k});
    ops::conv2d_forward(y, x, w, Tensor(), p);
    ops::conv2d_backward(dx, dw, db, dy, x, w, p);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    Tensor y1(dy.shape()), dx1(x.shape()), dw1 = Tensor::zeros(w.shape()), db1 = Tensor::zeros({k});
    ops::conv2d_forward(y1, x, w, Tensor(), p);
    ops::conv2d_backward(dx1, dw1, db1, dy, x, w, p);
    omp_set_num_threads(threads);
    EXPECT_TRUE(test::bitwise_equal(y1, y)) << n << " images";  // per-image work is identical whatever the split
    EXPECT_TRUE(test::bitwise_equal(dx1, dx)) << n << " images";
    EXPECT_TRUE(test::bitwise_equal(db1, db)) << n << " images";
    EXPECT_TRUE(test::bitwise_equal(dw1, dw)) << n << " images";
  }
}

// --- finite differences

struct GradCase {
  Shape x, w;
  Conv2dParams p;
};

class Conv2dGradient : public ::testing::TestWithParam<GradCase> {};

TEST_P(Conv2dGradient, MatchesFiniteDifferences) {
  const GradCase t = GetParam();
  Tensor x = test::random_uniform(t.x, 20), w = test::random_uniform(t.w, 21), b = test::random_uniform({t.w[0]}, 22);
  const Shape out = ops::conv2d_output_shape(t.x, t.w, t.p);
  const Tensor r = test::random_uniform(out, 23);
  Tensor dx(t.x), dw = Tensor::zeros(t.w), db = Tensor::zeros({t.w[0]});
  ops::conv2d_backward(dx, dw, db, r, x, w, t.p);
  auto forward = [&] {
    Tensor y(out);
    ops::conv2d_forward(y, x, w, b, t.p);
    return y;
  };
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r));
  EXPECT_TRUE(test::check_gradient(forward, w, dw, r));
  EXPECT_TRUE(test::check_gradient(forward, b, db, r));
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dGradient,
                         ::testing::Values(GradCase{{3, 3, 5, 7}, {4, 3, 3, 3}, {1, 1, 1, 1}},
                                           GradCase{{3, 5, 5, 7}, {6, 5, 3, 3}, {2, 2, 0, 0}},
                                           GradCase{{2, 3, 5, 7}, {2, 3, 5, 5}, {2, 2, 2, 2}},
                                           GradCase{{3, 4, 5, 7}, {3, 4, 1, 1}, {2, 2, 0, 0}},
                                           GradCase{{3, 4, 5, 7}, {3, 4, 1, 1}, {1, 1, 0, 0}},
                                           GradCase{{2, 32, 5, 6}, {32, 32, 3, 3}, {1, 1, 1, 1}},  // Winograd 2x2
                                           GradCase{{1, 16, 3, 33}, {16, 16, 3, 3}, {1, 1, 1, 1}},  // Winograd 4x4
                                           // Stride-2 split im2col, the input gradient by parity.
                                           GradCase{{2, 4, 9, 11}, {5, 4, 3, 3}, {2, 2, 1, 1}},
                                           // Taps in place, the input gradient by the flipped filter.
                                           GradCase{{1, 3, 6, 20}, {4, 3, 3, 3}, {1, 1, 1, 1}}));

// --- bad inputs

TEST(Conv2d, RejectsBadInputs) {
  const Conv2dParams p{1, 1, 1, 1};
  const Tensor x({2, 3, 5, 5}), w({4, 3, 3, 3}), b({4}), none;
  Tensor y({2, 4, 5, 5});
  EXPECT_NO_THROW(ops::conv2d_forward(y, x, w, b, p));
  EXPECT_THROW(ops::conv2d_forward(y, x, Tensor({4, 2, 3, 3}), b, p), Error);  // channel mismatch
  EXPECT_THROW(ops::conv2d_forward(y, Tensor({2, 3, 25}), w, b, p), Error);    // rank
  EXPECT_THROW(ops::conv2d_forward(y, x, w, Tensor({3}), p), Error);           // bias size
  EXPECT_THROW(ops::conv2d_forward(y, x, w, b, {1, 1, 0, 0}), Error);          // y shape (3x3 expected)
  EXPECT_THROW(ops::conv2d_forward(y, x, w, b, {0, 1, 1, 1}), Error);          // stride 0
  EXPECT_THROW(ops::conv2d_forward(y, x, w, b, {1, 1, -1, 1}), Error);         // negative padding
  EXPECT_THROW(ops::conv2d_forward(y, Tensor({2, 3, 2, 2}), w, b, {1, 1, 0, 0}), Error);  // filter too big
  EXPECT_THROW(ops::conv2d_forward(y, Tensor({2, 3, 5, 5}, DType::I32), w, b, p), Error);
  Tensor x_as_y = Tensor::zeros({2, 4, 5, 5});
  Tensor w_alias = Tensor::zeros({4, 4, 3, 3});
  EXPECT_THROW(ops::conv2d_forward(x_as_y, x_as_y, w_alias, none, p), Error);  // y aliases x

  Tensor dx({2, 3, 5, 5}), dw({4, 3, 3, 3}), db({4});
  const Tensor dy({2, 4, 5, 5});
  EXPECT_NO_THROW(ops::conv2d_backward(dx, dw, db, dy, x, w, p));
  EXPECT_THROW(ops::conv2d_backward(dx, dw, db, Tensor({2, 4, 4, 5}), x, w, p), Error);  // dy shape
  Tensor bad_dw({4, 3, 3, 2}), bad_dx({2, 3, 5, 4}), bad_db({5});
  EXPECT_THROW(ops::conv2d_backward(dx, bad_dw, db, dy, x, w, p), Error);
  EXPECT_THROW(ops::conv2d_backward(bad_dx, dw, db, dy, x, w, p), Error);
  EXPECT_THROW(ops::conv2d_backward(dx, dw, bad_db, dy, x, w, p), Error);
}

// --- GPU parity

class Conv2dGpu : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dGpu, MatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const ConvCase t = GetParam();
  const Device gpu = Device::cuda(0);
  const Tensor x = test::random_uniform({t.n, t.c, t.h, t.w}, 30), w = test::random_uniform({t.k, t.c, t.r, t.s}, 31);
  const Tensor b = test::random_uniform({t.k}, 32);
  const Shape out = ops::conv2d_output_shape(x.shape(), w.shape(), t.p);
  const Tensor dy = test::random_uniform(out, 33);
  Tensor y(out), dx(x.shape()), dw = Tensor::full(w.shape(), 0.5f), db = Tensor::full({t.k}, 0.5f);
  ops::conv2d_forward(y, x, w, b, t.p);
  ops::conv2d_backward(dx, dw, db, dy, x, w, t.p);
  const Tensor gx = x.to(gpu), gw = w.to(gpu), gb = b.to(gpu), gdy = dy.to(gpu);
  Tensor gy(out, DType::F32, gpu), gdx(x.shape(), DType::F32, gpu);
  Tensor gdw = Tensor::full(w.shape(), 0.5f, gpu), gdb = Tensor::full({t.k}, 0.5f, gpu);
  ops::conv2d_forward(gy, gx, gw, gb, t.p);
  ops::conv2d_backward(gdx, gdw, gdb, gdy, gx, gw, t.p);
  EXPECT_TRUE(test::nmse_below(gy.to(Device::cpu()), y, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(gdx.to(Device::cpu()), dx, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(gdw.to(Device::cpu()), dw, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(gdb.to(Device::cpu()), db, test::tol::kReductionNmse));
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dGpu,
                         ::testing::Values(ConvCase{3, 3, 5, 7, 5, 3, 3, {1, 1, 1, 1}},
                                           ConvCase{3, 5, 5, 7, 6, 3, 3, {2, 2, 0, 0}},
                                           ConvCase{3, 6, 5, 7, 3, 5, 5, {1, 1, 2, 2}},
                                           ConvCase{4, 6, 5, 7, 5, 1, 1, {2, 2, 0, 0}},
                                           ConvCase{3, 4, 9, 6, 3, 3, 2, {3, 2, 1, 0}},
                                           ConvCase{8, 16, 32, 32, 16, 3, 3, {1, 1, 1, 1}},
                                           ConvCase{8, 32, 16, 16, 64, 3, 3, {2, 2, 1, 1}}));

#if BMC_HAS_CUDA
TEST(Conv2dGpuDeterministic, RepeatedBackwardIsBitwiseIdentical) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  auto& ctx = cuda::context(gpu);
  ctx.deterministic = true;
  const Conv2dParams p{1, 1, 1, 1};
  const Tensor x = test::random_uniform({16, 16, 16, 16}, 40).to(gpu);
  const Tensor w = test::random_uniform({16, 16, 3, 3}, 41).to(gpu);
  const Tensor dy = test::random_uniform({16, 16, 16, 16}, 42).to(gpu);
  Tensor dx1(x.shape(), DType::F32, gpu), dx2(x.shape(), DType::F32, gpu);
  Tensor dw1 = Tensor::zeros(w.shape(), DType::F32, gpu), dw2 = Tensor::zeros(w.shape(), DType::F32, gpu);
  Tensor none;
  ops::conv2d_backward(dx1, dw1, none, dy, x, w, p);
  ops::conv2d_backward(dx2, dw2, none, dy, x, w, p);
  ctx.deterministic = false;
  EXPECT_TRUE(test::bitwise_equal(dx2.to(Device::cpu()), dx1.to(Device::cpu())));
  EXPECT_TRUE(test::bitwise_equal(dw2.to(Device::cpu()), dw1.to(Device::cpu())));
}
#endif

}  // namespace
}  // namespace bmc
