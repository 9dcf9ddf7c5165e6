// linear and relu against PyTorch fixtures (tests/golden/gen_linear_relu.py).
#include <gtest/gtest.h>

#include "ops/linear.h"
#include "ops/relu.h"
#include "tests/support/fixtures.h"

namespace bmc {
namespace {

class LinearGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(LinearGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture(GetParam());
  const Tensor &x = f.at("x"), &w = f.at("w"), &b = f.at("b");
  Tensor y(f.at("y").shape());
  ops::linear_forward(y, x, w, b);
  EXPECT_GOLDEN(y, f, "y");
  Tensor dx(x.shape()), dw = Tensor::zeros(w.shape()), db = Tensor::zeros(b.shape());
  ops::linear_backward(dx, dw, db, f.at("dy"), x, w);
  EXPECT_GOLDEN(dx, f, "dx");
  EXPECT_GOLDEN(dw, f, "dw");
  EXPECT_GOLDEN(db, f, "db");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LinearGolden, ::testing::Values("linear_batch3", "linear_wide"));

TEST(ReluGolden, ForwardAndBackwardMatchPyTorch) {
  const io::SafeTensors f = test::load_fixture("relu_nchw");
  Tensor y(f.at("x").shape()), dx(f.at("x").shape());
  ops::relu_forward(y, f.at("x"));
  EXPECT_GOLDEN(y, f, "y");
  ops::relu_backward(dx, f.at("dy"), y);
  EXPECT_GOLDEN(dx, f, "dx");
}

}  // namespace
}  // namespace bmc
