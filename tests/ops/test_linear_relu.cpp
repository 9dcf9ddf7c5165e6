// linear and relu: closed forms, gradient checks, and GPU parity (skipped without a device).
#include <gtest/gtest.h>

#include <cmath>

#include "ops/linear.h"
#include "ops/relu.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

namespace bmc {
namespace {

TEST(Linear, ForwardClosedForm) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor w = Tensor::from_vector<float>({1, 0, -1, 2, 1, 0}, {2, 3});
  const Tensor b = Tensor::from_vector<float>({0.5f, -1}, {2});
  Tensor y({2, 2});
  ops::linear_forward(y, x, w, b);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{-1.5f, 3, -1.5f, 12}));
}

TEST(Linear, RejectsMismatchedShapes) {
  Tensor y({2, 2});
  const Tensor x({2, 3}), w({2, 4}), b({2});
  EXPECT_THROW(ops::linear_forward(y, x, w, b), Error);
}

TEST(Linear, GradientsMatchFiniteDifferences) {
  Tensor x = test::random_uniform({3, 5}, 10);
  Tensor w = test::random_uniform({4, 5}, 11);
  Tensor b = test::random_uniform({4}, 12);
  const Tensor r = test::random_uniform({3, 4}, 13);
  Tensor dx({3, 5}), dw = Tensor::zeros({4, 5}), db = Tensor::zeros({4});
  ops::linear_backward(dx, dw, db, r, x, w);
  auto forward = [&] {
    Tensor y({3, 4});
    ops::linear_forward(y, x, w, b);
    return y;
  };
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r));
  EXPECT_TRUE(test::check_gradient(forward, w, dw, r));
  EXPECT_TRUE(test::check_gradient(forward, b, db, r));
}

TEST(Relu, ForwardBackwardAndGradient) {
  Tensor x = test::random_uniform({4, 6}, 20);
  Tensor y({4, 6});
  ops::relu_forward(y, x);
  const auto xv = x.to_vector<float>(), yv = y.to_vector<float>();
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_EQ(yv[i], xv[i] > 0 ? xv[i] : 0.0f);
  const Tensor r = test::random_uniform({4, 6}, 21);
  Tensor dx({4, 6});
  ops::relu_backward(dx, r, y);
  auto forward = [&] {
    Tensor out({4, 6});
    ops::relu_forward(out, x);
    return out;
  };
  test::GradCheckOptions options;
  options.at_kink = [&](int64_t j) { return std::fabs(x.data<float>()[j]) < 2 * options.step; };
  EXPECT_TRUE(test::check_gradient(forward, x, dx, r, options));
}

TEST(LinearReluGpu, MatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const Tensor x = test::random_uniform({7, 33}, 30), w = test::random_uniform({5, 33}, 31);
  const Tensor b = test::random_uniform({5}, 32), dy = test::random_uniform({7, 5}, 33);
  Tensor y({7, 5}), dx({7, 33}), dw = Tensor::zeros({5, 33}), db = Tensor::zeros({5});
  ops::linear_forward(y, x, w, b);
  ops::linear_backward(dx, dw, db, dy, x, w);
  Tensor gy({7, 5}, DType::F32, gpu), gdx({7, 33}, DType::F32, gpu);
  Tensor gdw = Tensor::zeros({5, 33}, DType::F32, gpu), gdb = Tensor::zeros({5}, DType::F32, gpu);
  const Tensor gx = x.to(gpu), gw = w.to(gpu), gb = b.to(gpu), gdy = dy.to(gpu);
  ops::linear_forward(gy, gx, gw, gb);
  ops::linear_backward(gdx, gdw, gdb, gdy, gx, gw);
  EXPECT_TRUE(test::nmse_below(gy, y, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(gdx, dx, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(gdw, dw, test::tol::kReductionNmse));
  EXPECT_TRUE(test::nmse_below(gdb, db, test::tol::kReductionNmse));
  Tensor ry({7, 5}), gry({7, 5}, DType::F32, gpu), rdx({7, 5}), grdx({7, 5}, DType::F32, gpu);
  ops::relu_forward(ry, y);
  ops::relu_forward(gry, gy);
  ops::relu_backward(rdx, dy, ry);
  ops::relu_backward(grdx, gdy, gry);
  EXPECT_TRUE(test::all_close(gry, ry, test::tol::kElementwiseAtol, test::tol::kElementwiseRtol));
  EXPECT_TRUE(test::all_close(grdx, rdx, test::tol::kElementwiseAtol, test::tol::kElementwiseRtol));
}

}  // namespace
}  // namespace bmc
