// batch norm: closed forms, running statistics over several steps, (N, C) vs (N, C, 1, 1),
// gradient checks for dx, dgamma and dbeta, bad inputs, and GPU parity (skipped without a device).
#include <gtest/gtest.h>

#include <cmath>

#include "ops/batch_norm.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

namespace bmc {
namespace {

using test::tol::kElementwiseAtol;
using test::tol::kElementwiseRtol;

constexpr float kMomentum = 0.1f;
constexpr float kEps = 1e-5f;

// Parameters and outputs of one batch-norm layer with C channels.
struct Bn {
  Tensor gamma, beta, running_mean, running_var, saved_mean, saved_invstd;
  Bn(int64_t c, uint64_t seed, Device device = Device::cpu())
      : gamma(test::random_uniform({c}, seed, 0.5f, 2.0f).to(device)),
        beta(test::random_uniform({c}, seed + 1).to(device)),
        running_mean(Tensor::zeros({c}, DType::F32, device)),
        running_var(Tensor::full({c}, 1.0f, device)),
        saved_mean({c}, DType::F32, device),
        saved_invstd({c}, DType::F32, device) {}
  Tensor train(const Tensor& x, float eps = kEps) {
    Tensor y(x.shape(), DType::F32, x.device());
    ops::batch_norm_forward_train(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                                  kMomentum, eps);
    return y;
  }
};

TEST(BatchNorm, TrainForwardClosedForm) {
  // (N=2, C=2, H=1, W=2). Channel 0 holds {1, 3, 5, 7}: mean 4, biased var 5, unbiased 20/3.
  // Channel 1 holds {2, 2, 2, 2}: mean 2, var 0, so y = beta.
  const Tensor x = Tensor::from_vector<float>({1, 3, 2, 2, 5, 7, 2, 2}, {2, 2, 1, 2});
  Bn bn(2, 1);
  bn.gamma = Tensor::from_vector<float>({2, 3}, {2});
  bn.beta = Tensor::from_vector<float>({0.5f, -1}, {2});
  const Tensor y = bn.train(x);
  const double s = 1 / std::sqrt(5.0 + kEps);
  const auto f = [](double v) { return static_cast<float>(v); };
  EXPECT_TRUE(
      test::all_close(y.to_vector<float>(),
                      {f(-6 * s + 0.5), f(-2 * s + 0.5), -1, -1, f(2 * s + 0.5), f(6 * s + 0.5), -1, -1},
                      kElementwiseAtol, kElementwiseRtol));
  EXPECT_EQ(bn.saved_mean.to_vector<float>(), (std::vector<float>{4, 2}));
  EXPECT_TRUE(test::all_close(bn.saved_invstd.to_vector<float>(), {f(s), f(1 / std::sqrt(kEps))},
                              kElementwiseAtol, kElementwiseRtol));
  EXPECT_TRUE(
      test::all_close(bn.running_mean.to_vector<float>(), {0.4f, 0.2f}, kElementwiseAtol, kElementwiseRtol));
  EXPECT_TRUE(test::all_close(bn.running_var.to_vector<float>(), {f(0.9 + 0.1 * 20 / 3), 0.9f},
                              kElementwiseAtol, kElementwiseRtol));
}

TEST(BatchNorm, RunningStatisticsOverSeveralStepsFollowPyTorch) {
  const Shape shape{3, 4, 2, 5};
  const int64_t channels = 4, per_channel = 3 * 2 * 5;
  Bn bn(channels, 2);
  std::vector<double> mean(channels, 0.0), var(channels, 1.0);
  for (uint64_t step = 0; step < 4; ++step) {
    const Tensor x = test::random_uniform(shape, 100 + step, -1.0f + step, 2.0f + 2 * step);
    bn.train(x);
    const float* p = x.data<float>();
    for (int64_t c = 0; c < channels; ++c) {  // by hand: unbiased batch variance into running_var
      double sum = 0, sq = 0;
      for (int64_t n = 0; n < 3; ++n)
        for (int64_t i = 0; i < 10; ++i) sum += p[(n * channels + c) * 10 + i];
      const double m = sum / per_channel;
      for (int64_t n = 0; n < 3; ++n)
        for (int64_t i = 0; i < 10; ++i) sq += std::pow(p[(n * channels + c) * 10 + i] - m, 2);
      mean[c] = 0.9 * mean[c] + 0.1 * m;
      var[c] = 0.9 * var[c] + 0.1 * sq / (per_channel - 1);
    }
  }
  const auto rm = bn.running_mean.to_vector<float>(), rv = bn.running_var.to_vector<float>();
  for (int64_t c = 0; c < channels; ++c) {
    EXPECT_NEAR(rm[c], mean[c], 1e-6 * (1 + std::fabs(mean[c]))) << "channel " << c;
    EXPECT_NEAR(rv[c], var[c], 1e-6 * var[c]) << "channel " << c;
  }
}

TEST(BatchNorm, TwoDimensionalInputIsSpatialOverN) {
  const Tensor x2 = test::random_uniform({5, 3}, 3);
  const Tensor x4 = x2.view({5, 3, 1, 1});
  Bn a(3, 4), b(3, 4);
  const Tensor y2 = a.train(x2), y4 = b.train(x4);
  EXPECT_TRUE(test::bitwise_equal(y2.view({5, 3, 1, 1}), y4));
  EXPECT_TRUE(test::bitwise_equal(a.running_var, b.running_var));
  // Each column is normalised on its own: mean 0 and biased variance 1 (up to eps) after.
  const auto y = y2.to_vector<float>(), g = a.gamma.to_vector<float>(), be = a.beta.to_vector<float>();
  for (int c = 0; c < 3; ++c) {
    double m = 0, v = 0;
    for (int n = 0; n < 5; ++n) m += (y[n * 3 + c] - be[c]) / g[c] / 5;
    for (int n = 0; n < 5; ++n) v += std::pow((y[n * 3 + c] - be[c]) / g[c] - m, 2) / 5;
    EXPECT_NEAR(m, 0, 1e-6);
    EXPECT_NEAR(v, 1, 1e-3);
  }
}

TEST(BatchNorm, EvalUsesRunningStatistics) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Bn bn(2, 5);
  bn.gamma = Tensor::from_vector<float>({2, 1}, {2});
  bn.beta = Tensor::from_vector<float>({0, 1}, {2});
  bn.running_mean = Tensor::from_vector<float>({1, -1}, {2});
  bn.running_var = Tensor::from_vector<float>({4, 0.25f}, {2});
  Tensor y({3, 2});
  ops::batch_norm_forward_eval(y, x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.0001f);
  const double s0 = 2 / std::sqrt(4.0001), s1 = 1 / std::sqrt(0.2501);
  std::vector<float> expected;
  for (int n = 0; n < 3; ++n) {
    expected.push_back(static_cast<float>((2 * n + 1 - 1) * s0));
    expected.push_back(static_cast<float>((2 * n + 2 + 1) * s1 + 1));
  }
  EXPECT_TRUE(test::all_close(y.to_vector<float>(), expected, kElementwiseAtol, kElementwiseRtol));
}

TEST(BatchNorm, GradientsMatchFiniteDifferences) {
  for (const Shape& shape : {Shape{3, 6, 5, 7}, Shape{4, 5}}) {
    const int64_t c = shape[1];
    Tensor x = test::random_uniform(shape, 6, -2, 3);
    Bn bn(c, 7);
    // A probe of magnitude ~10 keeps the gradients well above the check's absolute floor (tol * 1).
    const Tensor r = test::random_uniform(shape, 8, -10, 10);
    bn.train(x);
    // dgamma and dbeta accumulate: start from known values and subtract them afterwards.
    Tensor dx(shape), dgamma = Tensor::full({c}, 0.25f), dbeta = Tensor::full({c}, -0.5f);
    ops::batch_norm_backward(dx, dgamma, dbeta, r, x, bn.gamma, bn.saved_mean, bn.saved_invstd, kEps);
    float* pg = dgamma.data<float>();
    float* pb = dbeta.data<float>();
    for (int64_t i = 0; i < c; ++i) {
      pg[i] -= 0.25f;
      pb[i] += 0.5f;
    }
    auto forward = [&] { return bn.train(x); };
    EXPECT_TRUE(test::check_gradient(forward, x, dx, r)) << "dx " << shape.str();
    EXPECT_TRUE(test::check_gradient(forward, bn.gamma, dgamma, r)) << "dgamma " << shape.str();
    EXPECT_TRUE(test::check_gradient(forward, bn.beta, dbeta, r)) << "dbeta " << shape.str();
  }
}

TEST(BatchNorm, RejectsBadInputs) {
  Bn bn(3, 9);
  Tensor y({4, 3, 2, 2});
  const Tensor x({4, 3, 2, 2});
  const auto train = [&](Tensor& out, const Tensor& in, float momentum, float eps) {
    ops::batch_norm_forward_train(out, bn.saved_mean, bn.saved_invstd, in, bn.gamma, bn.beta, bn.running_mean,
                                  bn.running_var, momentum, eps);
  };
  Tensor y3({4, 3, 2}), single({1, 3, 1, 1}), y_wrong({4, 3, 2, 3});
  EXPECT_THROW(train(y3, Tensor({4, 3, 2}), kMomentum, kEps), Error);         // rank 3
  EXPECT_THROW(train(single, Tensor({1, 3, 1, 1}), kMomentum, kEps), Error);  // one value per channel
  EXPECT_THROW(train(y_wrong, x, kMomentum, kEps), Error);
  EXPECT_THROW(train(y, x, 1.5f, kEps), Error);
  EXPECT_THROW(train(y, x, kMomentum, 0.0f), Error);
  EXPECT_THROW(train(y, Tensor({4, 4, 2, 2}), kMomentum, kEps), Error);  // 4 channels, params for 3
  EXPECT_THROW(train(y, Tensor({4, 3, 2, 2}, DType::I32), kMomentum, kEps), Error);
  Tensor alias = x.clone();
  EXPECT_THROW(train(alias, alias, kMomentum, kEps), Error);
  Tensor short_gamma({2});
  EXPECT_THROW(
      ops::batch_norm_forward_eval(y, x, short_gamma, bn.beta, bn.running_mean, bn.running_var, kEps), Error);
  Tensor dx({4, 3, 2, 2}), dgamma({3}), dbeta({4});
  EXPECT_THROW(ops::batch_norm_backward(dx, dgamma, dbeta, x, x, bn.gamma, bn.saved_mean, bn.saved_invstd, kEps),
               Error);
}

// Three training steps (running statistics), an eval forward and a backward with accumulation,
// GPU vs CPU. eps = 1e-3 differs from cuDNN's minimum, which the backward passes to cuDNN.
void expect_gpu_matches_cpu(const Shape& shape) {
  const Device gpu = Device::cuda(0);
  const int64_t c = shape[1];
  const float eps = 1e-3f;
  Bn cpu(c, 20), dev(c, 20, gpu);
  Tensor y, gy;
  Tensor x;
  for (uint64_t step = 0; step < 3; ++step) {
    x = test::random_uniform(shape, 21 + step, -1.0f, 1.0f + step);
    y = cpu.train(x, eps);
    gy = dev.train(x.to(gpu), eps);
  }
  const double nmse = test::tol::kReductionNmse;
  EXPECT_TRUE(test::nmse_below(gy, y, nmse)) << "y " << shape.str();
  EXPECT_TRUE(test::nmse_below(dev.saved_mean, cpu.saved_mean, nmse)) << "saved_mean";
  EXPECT_TRUE(test::nmse_below(dev.saved_invstd, cpu.saved_invstd, nmse)) << "saved_invstd";
  EXPECT_TRUE(test::nmse_below(dev.running_mean, cpu.running_mean, nmse)) << "running_mean";
  EXPECT_TRUE(test::nmse_below(dev.running_var, cpu.running_var, nmse)) << "running_var (unbiased?)";

  Tensor ye(shape), gye(shape, DType::F32, gpu);
  const Tensor xe = test::random_uniform(shape, 30);
  ops::batch_norm_forward_eval(ye, xe, cpu.gamma, cpu.beta, cpu.running_mean, cpu.running_var, eps);
  ops::batch_norm_forward_eval(gye, xe.to(gpu), dev.gamma, dev.beta, dev.running_mean, dev.running_var, eps);
  EXPECT_TRUE(test::nmse_below(gye, ye, nmse)) << "y_eval";

  const Tensor dy = test::random_uniform(shape, 31);
  Tensor dx(shape), dgamma = Tensor::full({c}, 0.5f), dbeta = Tensor::full({c}, 0.5f);
  Tensor gdx(shape, DType::F32, gpu), gdgamma = Tensor::full({c}, 0.5f, gpu),
                                      gdbeta = Tensor::full({c}, 0.5f, gpu);
  ops::batch_norm_backward(dx, dgamma, dbeta, dy, x, cpu.gamma, cpu.saved_mean, cpu.saved_invstd, kEps);
  ops::batch_norm_backward(gdx, gdgamma, gdbeta, dy.to(gpu), x.to(gpu), dev.gamma, dev.saved_mean,
                           dev.saved_invstd, kEps);
  EXPECT_TRUE(test::nmse_below(gdx, dx, nmse)) << "dx";
  EXPECT_TRUE(test::nmse_below(gdgamma, dgamma, nmse)) << "dgamma";
  EXPECT_TRUE(test::nmse_below(gdbeta, dbeta, nmse)) << "dbeta";
}

TEST(BatchNormGpu, MatchesCpuNchw) {
  BMC_REQUIRE_CUDA_DEVICE();
  expect_gpu_matches_cpu({3, 6, 5, 7});
  expect_gpu_matches_cpu({2, 3, 2, 2});  // M = 8: running_var's M / (M - 1) is a 14% difference
}

TEST(BatchNormGpu, MatchesCpuNc) {
  BMC_REQUIRE_CUDA_DEVICE();
  expect_gpu_matches_cpu({9, 5});
}

}  // namespace
}  // namespace bmc
