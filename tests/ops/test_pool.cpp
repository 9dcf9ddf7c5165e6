// max/avg pooling and global average pooling: closed forms, tie and NaN rules, finite-difference
// gradients, bad inputs, and GPU parity (skipped without a device).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "ops/pool.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

namespace bmc {
namespace {

using ops::Pool2dParams;

// 0..15 in a 4x4 plane.
Tensor iota_4x4() {
  std::vector<float> v(16);
  std::iota(v.begin(), v.end(), 0.0f);
  return Tensor::from_vector(v, {1, 1, 4, 4});
}

// Distinct values 1 apart in shuffled order, so no window has a tie within the gradcheck step.
Tensor distinct_values(const Shape& shape, uint64_t seed) {
  const std::vector<float> keys = test::random_uniform(shape, seed).to_vector<float>();
  std::vector<int64_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
  std::vector<float> v(keys.size());
  for (size_t rank = 0; rank < order.size(); ++rank) v[order[rank]] = static_cast<float>(rank) * 0.5f - 10;
  return Tensor::from_vector(v, shape);
}

TEST(Pool2d, OutputShape) {
  EXPECT_EQ(ops::pool2d_output_shape({3, 5, 5, 7}, {2, 2, 2, 2, 0, 0}), (Shape{3, 5, 2, 3}));
  EXPECT_EQ(ops::pool2d_output_shape({3, 5, 5, 7}, {3, 3, 2, 2, 1, 1}), (Shape{3, 5, 3, 4}));
  EXPECT_EQ(ops::pool2d_output_shape({1, 1, 32, 32}, {3, 2, 1, 2, 1, 0}), (Shape{1, 1, 32, 16}));
}

TEST(MaxPool2d, ForwardBackwardClosedForm) {
  const Tensor x = iota_4x4();
  Tensor y({1, 1, 2, 2});
  ops::max_pool2d_forward(y, x, {});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{5, 7, 13, 15}));
  Tensor dx({1, 1, 4, 4});
  ops::max_pool2d_backward(dx, Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2}), x, y, {});
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}));
}

TEST(MaxPool2d, PaddingIsIgnoredAndOverlapsAccumulate) {
  // 3x3 s2 p1 over -iota: padding must not win (it would be 0 > every input), and the top-left
  // input (largest) is the max of the windows that contain it.
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = -static_cast<float>(i);
  const Tensor x = Tensor::from_vector(v, {1, 1, 4, 4});
  const Pool2dParams p{3, 3, 2, 2, 1, 1};
  Tensor y({1, 1, 2, 2}), dx({1, 1, 4, 4});
  ops::max_pool2d_forward(y, x, p);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, -1, -4, -5}));
  ops::max_pool2d_backward(dx, Tensor::full({1, 1, 2, 2}, 1.0f), x, y, p);
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(MaxPool2d, TiesGoToTheFirstMaximum) {
  const Tensor x = Tensor::full({1, 1, 4, 4}, 2.0f);
  Tensor y({1, 1, 2, 2}), dx({1, 1, 4, 4});
  ops::max_pool2d_forward(y, x, {});
  ops::max_pool2d_backward(dx, Tensor::full({1, 1, 2, 2}, 1.0f), x, y, {});
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(MaxPool2d, NanPropagates) {
  std::vector<float> v(16, 1.0f);
  v[5] = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector(v, {1, 1, 4, 4});
  Tensor y({1, 1, 2, 2}), dx({1, 1, 4, 4});
  ops::max_pool2d_forward(y, x, {});
  const auto yv = y.to_vector<float>();
  EXPECT_TRUE(std::isnan(yv[0]));
  EXPECT_EQ(yv[1], 1.0f);
  ops::max_pool2d_backward(dx, Tensor::full({1, 1, 2, 2}, 1.0f), x, y, {});
  EXPECT_EQ(dx.to_vector<float>()[5], 1.0f);
  EXPECT_EQ(dx.to_vector<float>()[0], 0.0f);
}

// The definition, one output at a time: the first window element (row-major) that no later one
// beats, NaN winning over numbers and the first NaN over later ones.
Tensor reference_max_pool(const Tensor& x, const Pool2dParams& p) {
  const Shape out = ops::pool2d_output_shape(x.shape(), p);
  const int64_t h = x.dim(2), w = x.dim(3);
  Tensor y(out);
  const float* xv = x.data<float>();
  float* yv = y.data<float>();
  for (int64_t plane = 0; plane < out[0] * out[1]; ++plane)
    for (int64_t op = 0; op < out[2]; ++op)
      for (int64_t oq = 0; oq < out[3]; ++oq) {
        bool found = false;
        float best = 0;
        for (int64_t r = 0; r < p.kernel_h; ++r)
          for (int64_t s = 0; s < p.kernel_w; ++s) {
            const int64_t ih = op * p.stride_h - p.pad_h + r, iw = oq * p.stride_w - p.pad_w + s;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const float v = xv[(plane * h + ih) * w + iw];
            if (!found || (!std::isnan(best) && (v > best || std::isnan(v)))) best = v;
            found = true;
          }
        yv[(plane * out[2] + op) * out[3] + oq] = best;
      }
  return y;
}

// Wide planes (the outputs inside the columns are computed together) against the definition,
// bitwise: ties between -0 and +0 keep the first, NaNs propagate.
TEST(MaxPool2d, MatchesTheDefinitionOnWidePlanes) {
  for (const Pool2dParams& p : {Pool2dParams{3, 3, 2, 2, 1, 1}, Pool2dParams{2, 2, 2, 2, 0, 0},
                                Pool2dParams{3, 2, 1, 2, 1, 0}, Pool2dParams{5, 5, 3, 3, 2, 2}, Pool2dParams{3, 3, 1, 1, 1, 1}}) {
    std::vector<float> v = test::random_small_ints({2, 3, 19, 37}, 30).to_vector<float>();
    for (size_t i = 0; i < v.size(); i += 7) v[i] = (i / 7) % 2 ? -0.0f : 0.0f;
    for (size_t i = 11; i < v.size(); i += 97) v[i] = std::numeric_limits<float>::quiet_NaN();
    const Tensor x = Tensor::from_vector(v, {2, 3, 19, 37});
    Tensor y(ops::pool2d_output_shape(x.shape(), p));
    ops::max_pool2d_forward(y, x, p);
    EXPECT_TRUE(test::bitwise_equal(y, reference_max_pool(x, p)))
        << "kernel " << p.kernel_h << "x" << p.kernel_w << " stride " << p.stride_h << "," << p.stride_w;
  }
}

TEST(AvgPool2d, ForwardBackwardClosedForm) {
  const Tensor x = iota_4x4();
  Tensor y({1, 1, 2, 2});
  ops::avg_pool2d_forward(y, x, {});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  Tensor dx({1, 1, 4, 4});
  ops::avg_pool2d_backward(dx, Tensor::from_vector<float>({4, 8, 12, 16}, {1, 1, 2, 2}), {});
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(AvgPool2d, PaddedZerosCountInTheDivisor) {
  // 3x3 s2 p1 over ones: the top-left window sees 4 inputs and 5 padded zeros -> 4/9.
  const Tensor x = Tensor::full({1, 1, 4, 4}, 1.0f);
  const Pool2dParams p{3, 3, 2, 2, 1, 1};
  Tensor y({1, 1, 2, 2}), dx({1, 1, 4, 4});
  ops::avg_pool2d_forward(y, x, p);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{4.0f / 9, 6.0f / 9, 6.0f / 9, 9.0f / 9}));
  ops::avg_pool2d_backward(dx, Tensor::full({1, 1, 2, 2}, 9.0f), p);
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{1, 2, 1, 1, 2, 4, 2, 2, 1, 2, 1, 1, 1, 2, 1, 1}));
}

TEST(GlobalAvgPool, ForwardBackwardClosedForm) {
  std::vector<float> v(2 * 3 * 2 * 2);
  std::iota(v.begin(), v.end(), 0.0f);
  const Tensor x = Tensor::from_vector(v, {2, 3, 2, 2});
  Tensor y({2, 3});
  ops::global_avg_pool_forward(y, x);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f}));
  Tensor dx({2, 3, 2, 2});
  ops::global_avg_pool_backward(dx, Tensor::from_vector<float>({4, 8, 12, 16, 20, 24}, {2, 3}));
  const auto dxv = dx.to_vector<float>();
  for (size_t i = 0; i < dxv.size(); ++i) EXPECT_EQ(dxv[i], static_cast<float>(i / 4 + 1)) << i;
}

// --- finite differences

class Pool2dGradient : public ::testing::TestWithParam<Pool2dParams> {};

TEST_P(Pool2dGradient, MaxPoolMatchesFiniteDifferences) {
  const Pool2dParams p = GetParam();
  Tensor x = distinct_values({3, 2, 5, 7}, 50);
  const Shape out = ops::pool2d_output_shape(x.shape(), p);
  const Tensor r = test::random_uniform(out, 51);
  Tensor y(out), dx(x.shape());
  ops::max_pool2d_forward(y, x, p);
  ops::max_pool2d_backward(dx, r, x, y, p);
  auto forward = [&] {
    Tensor out_y(out);
    ops::max_pool2d_forward(out_y, x, p);
    return out_y;
  };
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r));
}

TEST_P(Pool2dGradient, AvgPoolMatchesFiniteDifferences) {
  const Pool2dParams p = GetParam();
  Tensor x = test::random_uniform({3, 2, 5, 7}, 52);
  const Shape out = ops::pool2d_output_shape(x.shape(), p);
  const Tensor r = test::random_uniform(out, 53);
  Tensor dx(x.shape());
  ops::avg_pool2d_backward(dx, r, p);
  auto forward = [&] {
    Tensor y(out);
    ops::avg_pool2d_forward(y, x, p);
    return y;
  };
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r));
}

INSTANTIATE_TEST_SUITE_P(Params, Pool2dGradient,
                         ::testing::Values(Pool2dParams{2, 2, 2, 2, 0, 0}, Pool2dParams{3, 3, 2, 2, 1, 1},
                                           Pool2dParams{3, 2, 1, 2, 1, 0}, Pool2dParams{3, 3, 1, 1, 0, 0}));

TEST(GlobalAvgPool, GradientMatchesFiniteDifferences) {
  Tensor x = test::random_uniform({3, 5, 5, 7}, 54);
  const Tensor r = test::random_uniform({3, 5}, 55);
  Tensor dx(x.shape());
  ops::global_avg_pool_backward(dx, r);
  auto forward = [&] {
    Tensor y({3, 5});
    ops::global_avg_pool_forward(y, x);
    return y;
  };
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r));
}

// --- bad inputs

TEST(Pool2d, RejectsBadInputs) {
  const Tensor x({2, 3, 5, 7});
  Tensor y({2, 3, 2, 3});
  EXPECT_NO_THROW(ops::max_pool2d_forward(y, x, {}));
  EXPECT_THROW(ops::max_pool2d_forward(y, x, {3, 3, 2, 2, 2, 2}), Error);  // padding > kernel/2
  EXPECT_THROW(ops::max_pool2d_forward(y, x, {2, 2, 0, 2, 0, 0}), Error);  // stride 0
  EXPECT_THROW(ops::avg_pool2d_forward(y, x, {6, 6, 1, 1, 0, 0}), Error);  // window > input
  EXPECT_THROW(ops::avg_pool2d_forward(y, Tensor({2, 3, 35}), {}), Error);  // rank
  Tensor wrong({2, 3, 3, 3});
  EXPECT_THROW(ops::avg_pool2d_forward(wrong, x, {}), Error);
  EXPECT_THROW(ops::max_pool2d_forward(y, Tensor({2, 3, 5, 7}, DType::I32), {}), Error);
  Tensor dx({2, 3, 5, 7});
  EXPECT_THROW(ops::max_pool2d_backward(dx, wrong, x, y, {}), Error);  // dy shape
  EXPECT_THROW(ops::avg_pool2d_backward(dx, wrong, {}), Error);
  Tensor x_mut({2, 3, 5, 7});
  EXPECT_THROW(ops::max_pool2d_backward(x_mut, y, x_mut, y, {}), Error);  // dx aliases x
  Tensor g({2, 3});
  EXPECT_NO_THROW(ops::global_avg_pool_forward(g, x));
  Tensor g_wrong({2, 4});
  EXPECT_THROW(ops::global_avg_pool_forward(g_wrong, x), Error);
  EXPECT_THROW(ops::global_avg_pool_backward(dx, g_wrong), Error);
  EXPECT_THROW(ops::global_avg_pool_forward(g, Tensor({2, 3, 0, 7})), Error);
}

// --- GPU parity

struct PoolGpuCase {
  Shape x;
  Pool2dParams p;
};

class PoolGpu : public ::testing::TestWithParam<PoolGpuCase> {};

TEST_P(PoolGpu, MatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const PoolGpuCase t = GetParam();
  const Device gpu = Device::cuda(0), cpu = Device::cpu();
  const Tensor x = distinct_values(t.x, 60), dy = test::random_uniform(ops::pool2d_output_shape(t.x, t.p), 61);
  const Tensor gx = x.to(gpu), gdy = dy.to(gpu);
  const Shape out = dy.shape();
  Tensor y(out), dx(t.x), gy(out, DType::F32, gpu), gdx(t.x, DType::F32, gpu);
  // Max pooling picks elements, so with distinct inputs both sides agree exactly.
  ops::max_pool2d_forward(y, x, t.p);
  ops::max_pool2d_forward(gy, gx, t.p);
  EXPECT_TRUE(test::bitwise_equal(gy.to(cpu), y));
  ops::max_pool2d_backward(dx, dy, x, y, t.p);
  ops::max_pool2d_backward(gdx, gdy, gx, gy, t.p);
  EXPECT_TRUE(test::all_close(gdx.to(cpu), dx, test::tol::kElementwiseAtol, test::tol::kElementwiseRtol));
  ops::avg_pool2d_forward(y, x, t.p);
  ops::avg_pool2d_forward(gy, gx, t.p);
  EXPECT_TRUE(test::nmse_below(gy.to(cpu), y, test::tol::kReductionNmse));
  ops::avg_pool2d_backward(dx, dy, t.p);
  ops::avg_pool2d_backward(gdx, gdy, t.p);
  EXPECT_TRUE(test::nmse_below(gdx.to(cpu), dx, test::tol::kReductionNmse));
  Tensor g({t.x[0], t.x[1]}), gg({t.x[0], t.x[1]}, DType::F32, gpu);
  ops::global_avg_pool_forward(g, x);
  ops::global_avg_pool_forward(gg, gx);
  EXPECT_TRUE(test::nmse_below(gg.to(cpu), g, test::tol::kReductionNmse));
  const Tensor gdy_global = test::random_uniform({t.x[0], t.x[1]}, 62);
  ops::global_avg_pool_backward(dx, gdy_global);
  ops::global_avg_pool_backward(gdx, gdy_global.to(gpu));
  EXPECT_TRUE(test::all_close(gdx.to(cpu), dx, test::tol::kElementwiseAtol, test::tol::kElementwiseRtol));
}

INSTANTIATE_TEST_SUITE_P(Shapes, PoolGpu,
                         ::testing::Values(PoolGpuCase{{3, 5, 5, 7}, {2, 2, 2, 2, 0, 0}},
                                           PoolGpuCase{{3, 5, 5, 7}, {3, 3, 2, 2, 1, 1}},
                                           PoolGpuCase{{4, 16, 32, 32}, {2, 2, 2, 2, 0, 0}},
                                           PoolGpuCase{{2, 64, 8, 8}, {3, 3, 1, 1, 1, 1}}));

}  // namespace
}  // namespace bmc
