// conv2d, pooling and global average pooling against PyTorch fixtures
// (tests/golden/gen_conv_pool.py; stride, padding and kernel size are in each file's metadata).
#include <gtest/gtest.h>

#include <string>

#include "ops/conv2d.h"
#include "ops/pool.h"
#include "tests/support/fixtures.h"

namespace bmc {
namespace {

int meta_int(const io::SafeTensors& f, const std::string& key) { return std::stoi(f.metadata.at(key)); }

class ConvGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const int stride = meta_int(f, "stride"), pad = meta_int(f, "pad");
  const ops::Conv2dParams p{stride, stride, pad, pad};
  const Tensor &x = f.at("x"), &w = f.at("w"), &b = f.at("b");
  Tensor y(f.at("y").shape());
  ops::conv2d_forward(y, x, w, b, p);
  EXPECT_GOLDEN(y, f, "y");
  Tensor dx(x.shape()), dw = Tensor::zeros(w.shape()), db = Tensor::zeros(b.shape());
  ops::conv2d_backward(dx, dw, db, f.at("dy"), x, w, p);
  EXPECT_GOLDEN(dx, f, "dx");
  EXPECT_GOLDEN(dw, f, "dw");
  EXPECT_GOLDEN(db, f, "db");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ConvGolden,
                         ::testing::Values("conv_c3k5_r3_s1_p1", "conv_c5k6_r3_s2_p0", "conv_c6k3_r5_s1_p2",
                                           "conv_c5k6_r5_s2_p2", "conv_c6k5_r1_s2_p0", "conv_c3k6_r1_s1_p0",
                                           "conv_c5k3_r3_s2_p1",
                                           // Shapes of the fast paths (see gen_conv_pool.py).
                                           "conv_c16k16_h6w34_r3_s1_p1", "conv_c32k33_h7w9_r3_s1_p1",
                                           "conv_c16k32_h12w15_r3_s2_p1", "conv_c8k12_h17w20_r3_s1_p1",
                                           "conv_c3k16_h13w12_r3_s1_p1", "conv_c6k8_h11w14_r7_s2_p3",
                                           "conv_c20k12_h9w10_r1_s2_p0", "conv_c24k16_h5w7_r1_s1_p0"));

ops::Pool2dParams pool_params(const io::SafeTensors& f) {
  const int k = meta_int(f, "kernel"), s = meta_int(f, "stride"), p = meta_int(f, "pad");
  return {k, k, s, s, p, p};
}

class MaxPoolGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(MaxPoolGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const ops::Pool2dParams p = pool_params(f);
  Tensor y(f.at("y").shape()), dx(f.at("x").shape());
  ops::max_pool2d_forward(y, f.at("x"), p);
  EXPECT_GOLDEN(y, f, "y");
  ops::max_pool2d_backward(dx, f.at("dy"), f.at("x"), y, p);
  EXPECT_GOLDEN(dx, f, "dx");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MaxPoolGolden, ::testing::Values("pool_max_k2_s2", "pool_max_k3_s2_p1"));

class AvgPoolGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(AvgPoolGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const ops::Pool2dParams p = pool_params(f);
  Tensor y(f.at("y").shape()), dx(f.at("x").shape());
  ops::avg_pool2d_forward(y, f.at("x"), p);
  EXPECT_GOLDEN(y, f, "y");
  ops::avg_pool2d_backward(dx, f.at("dy"), p);
  EXPECT_GOLDEN(dx, f, "dx");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AvgPoolGolden, ::testing::Values("pool_avg_k2_s2", "pool_avg_k3_s2_p1"));

TEST(GlobalAvgPoolGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture("gap_n3c6");
  Tensor y(f.at("y").shape()), dx(f.at("x").shape());
  ops::global_avg_pool_forward(y, f.at("x"));
  EXPECT_GOLDEN(y, f, "y");
  ops::global_avg_pool_backward(dx, f.at("dy"));
  EXPECT_GOLDEN(dx, f, "dx");
}

}  // namespace
}  // namespace bmc
