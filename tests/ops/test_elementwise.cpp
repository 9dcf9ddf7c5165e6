// add_forward, add_relu_forward, axpy, scale: closed forms, aliasing, bad inputs, and GPU parity (skipped without a
// device).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/elementwise.h"
#include "ops/relu.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

TEST(Elementwise, AddClosedForm) {
  const Tensor a = Tensor::from_vector<float>({1, 2, 3, -4}, {2, 2});
  const Tensor b = Tensor::from_vector<float>({0.5f, -2, 7, 4}, {2, 2});
  Tensor y({2, 2});
  ops::add_forward(y, a, b);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1.5f, 0, 10, 0}));
}

TEST(Elementwise, AddMayWriteIntoEitherInput) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
  ops::add_forward(a, a, b);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{11, 22, 33}));
  ops::add_forward(b, a, b);
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{21, 42, 63}));
}

TEST(Elementwise, AddReluIsReluOfTheSumIncludingSignedZeroAndNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor a = Tensor::from_vector<float>({1, -2, 0.5f, -0.0f, nan, 3, -1}, {7});
  const Tensor b = Tensor::from_vector<float>({1, 1, -0.5f, -0.0f, 1, nan, 1}, {7});
  Tensor y({7});
  ops::add_relu_forward(y, a, b);
  const std::vector<float> v = y.to_vector<float>();
  EXPECT_EQ(v[0], 2.0f);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_EQ(v[6], 0.0f);
  EXPECT_TRUE(std::isnan(v[4]) && std::isnan(v[5]));  // NaN passes, as torch.relu lets it
  Tensor separate({7});
  ops::add_forward(separate, a, b);
  ops::relu_forward(separate, separate);
  EXPECT_TRUE(test::bitwise_equal(y, separate));  // -0 + -0 = -0 stays -0, as relu keeps it
  const Tensor big_a = test::random_uniform({3, 5, 7, 11}, 43), big_b = test::random_uniform({3, 5, 7, 11}, 44);
  Tensor in_place = big_a.clone(), expected({3, 5, 7, 11});
  ops::add_relu_forward(in_place, in_place, big_b);
  ops::add_forward(expected, big_a, big_b);
  ops::relu_forward(expected, expected);
  EXPECT_TRUE(test::bitwise_equal(in_place, expected));
  Tensor wrong({6});
  EXPECT_THROW(ops::add_relu_forward(wrong, a, b), Error);
}

TEST(Elementwise, AxpyAccumulatesScaledInput) {
  Tensor y = Tensor::from_vector<float>({1, 1, 1, 1, 1}, {5});
  const Tensor x = Tensor::from_vector<float>({0, 1, -2, 4, 0.5f}, {5});
  ops::axpy(y, 0.5f, x);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 1.5f, 0, 3, 1.25f}));
  ops::axpy(y, -1.0f, y);  // y aliasing x: y + (-1) * y
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 0}));
}

TEST(Elementwise, AxpyRoundsProductAndSumSeparately) {
  // (1 + 2^-13)(1 - 2^-13) = 1 - 2^-26 rounds to 1 in f32, so y = -1 + 1 = 0; an FMA would keep
  // the product exact and give -2^-26. The core promises two roundings on every backend.
  const float e = 1.0f / 8192;
  Tensor y = Tensor::from_vector<float>({-1.0f}, {1});
  const Tensor x = Tensor::from_vector<float>({1.0f - e}, {1});
  ops::axpy(y, 1.0f + e, x);
  EXPECT_EQ(y.to_vector<float>()[0], 0.0f);
}

TEST(Elementwise, ScaleMultipliesInPlace) {
  Tensor y = test::random_uniform({3, 5, 7}, 40);
  const auto before = y.to_vector<float>();
  ops::scale(y, -3.0f);
  const auto after = y.to_vector<float>();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], before[i] * -3.0f) << i;
}

TEST(Elementwise, EmptyTensorsAreANoOp) {
  Tensor y({0, 3}), a({0, 3}), b({0, 3});
  EXPECT_NO_THROW(ops::add_forward(y, a, b));
  EXPECT_NO_THROW(ops::axpy(y, 2.0f, a));
  EXPECT_NO_THROW(ops::scale(y, 2.0f));
}

TEST(Elementwise, RejectsBadInputs) {
  Tensor y({2, 3}), a({2, 3}), b({3, 2}), ints({2, 3}, DType::I32);
  EXPECT_THROW(ops::add_forward(y, a, b), Error);
  EXPECT_THROW(ops::add_forward(b, a, a), Error);
  EXPECT_THROW(ops::add_forward(y, a, ints), Error);
  EXPECT_THROW(ops::axpy(y, 1.0f, b), Error);
  EXPECT_THROW(ops::axpy(ints, 1.0f, a), Error);
  EXPECT_THROW(ops::scale(ints, 2.0f), Error);
  Tensor undefined;
  EXPECT_THROW(ops::scale(undefined, 2.0f), Error);
}

TEST(Elementwise, AddChannelBiasBroadcastsOverBatchAndPixels) {
  Tensor y = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  ops::add_channel_bias(y, Tensor::from_vector<float>({10, 20}, {2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{11, 12, 23, 24, 15, 16, 27, 28}));
  Tensor fc = Tensor::from_vector<float>({1, 2, 3}, {1, 3});
  ops::add_channel_bias(fc, Tensor::from_vector<float>({1, 1, 1}, {3}));
  EXPECT_EQ(fc.to_vector<float>(), (std::vector<float>{2, 3, 4}));
  EXPECT_THROW(ops::add_channel_bias(y, Tensor::from_vector<float>({1, 2, 3}, {3})), Error);
}

TEST(Elementwise, CountersAddOnTheirDevice) {
  Tensor c = Tensor::zeros({}, DType::I64);
  for (int i = 0; i < 3; ++i) ops::add_to_counter(c, 1);
  ops::add_to_counter(c, int64_t{1} << 40);
  EXPECT_EQ(c.to_vector<int64_t>()[0], (int64_t{1} << 40) + 3);
  Tensor f({1});
  EXPECT_THROW(ops::add_to_counter(f, 1), Error);
}

TEST(ElementwiseGpu, CountersMatchTheCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  Tensor c = Tensor::zeros({70001}, DType::I64, Device::cuda(0));
  ops::add_to_counter(c, 5);
  ops::add_to_counter(c, -2);
  for (const int64_t v : c.to_vector<int64_t>()) ASSERT_EQ(v, 3);
}

TEST(ElementwiseGpu, AddChannelBiasMatchesCpuBitwise) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  Tensor y = test::random_uniform({16, 64, 24, 24}, 21);  // 589,824 elements: the grid-stride loop iterates
  const Tensor b = test::random_uniform({64}, 22);
  Tensor gy = y.to(gpu);
  ops::add_channel_bias(y, b);
  ops::add_channel_bias(gy, b.to(gpu));
  EXPECT_TRUE(test::bitwise_equal(gy, y));
}

TEST(ElementwiseGpu, MatchesCpuBitwise) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const Shape shape{3, 5, 7, 11};
  const Tensor a = test::random_uniform(shape, 41), b = test::random_uniform(shape, 42);
  Tensor y(shape), gy(shape, DType::F32, gpu);
  const Tensor ga = a.to(gpu), gb = b.to(gpu);
  ops::add_forward(y, a, b);
  ops::add_forward(gy, ga, gb);
  EXPECT_TRUE(test::bitwise_equal(gy, y));
  ops::axpy(y, 0.3f, b);
  ops::axpy(gy, 0.3f, gb);
  EXPECT_TRUE(test::bitwise_equal(gy, y));
  ops::scale(y, -1.7f);
  ops::scale(gy, -1.7f);
  EXPECT_TRUE(test::bitwise_equal(gy, y));
  ops::clamp(y, -0.4f, 0.6f);
  ops::clamp(gy, -0.4f, 0.6f);
  EXPECT_TRUE(test::bitwise_equal(gy, y));
  ops::add_relu_forward(y, y, b);
  ops::add_relu_forward(gy, gy, gb);
  EXPECT_TRUE(test::bitwise_equal(gy, y));
  Tensor mixed(shape);
  EXPECT_THROW(ops::add_forward(mixed, ga, b), Error);
}

}  // namespace
}  // namespace bmc
