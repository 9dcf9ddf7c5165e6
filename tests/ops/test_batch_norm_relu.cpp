// Batch norm with the ReLU after it in one pass: the same values, bitwise, as batch norm then
// ReLU as two ops (training and eval forward, the backward through the mask, one shard and the
// cross-shard path, tails of the vector loops); a finite-difference check of the fused
// backward's dx; bad inputs; GPU parity (skipped without a device).
#include <gtest/gtest.h>

#include <cmath>

#include "ops/batch_norm.h"
#include "ops/relu.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

namespace bmc {
namespace {

constexpr float kMomentum = 0.1f;
constexpr float kEps = 1e-5f;

// One process's shard is the whole batch: the cross-shard code path with nothing to add.
const ops::CrossShardSum kOneShard{[](double*, int64_t) {}, [](Tensor&) {}};

// H * W = 35 and 9 leave tails after the 8- and 4-wide loops; (4, 5) is the (N, C) form.
const Shape kShapes[] = {{3, 6, 5, 7}, {2, 3, 1, 9}, {4, 5}, {1, 2, 4, 4}};

struct Bn {
  Tensor gamma, beta, running_mean, running_var, saved_mean, saved_invstd;
  Bn(int64_t c, uint64_t seed, Device device = Device::cpu())
      : gamma(test::random_uniform({c}, seed, -1.0f, 2.0f).to(device)),
        beta(test::random_uniform({c}, seed + 1).to(device)),
        running_mean(test::random_uniform({c}, seed + 2).to(device)),
        running_var(test::random_uniform({c}, seed + 3, 0.5f, 2.0f).to(device)),
        saved_mean({c}, DType::F32, device),
        saved_invstd({c}, DType::F32, device) {}
  Tensor train(const Tensor& x, bool fused, const ops::CrossShardSum* across = nullptr) {
    Tensor y(x.shape(), DType::F32, x.device());
    if (fused) {
      ops::batch_norm_relu_forward_train(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                                         kMomentum, kEps, across);
      return y;
    }
    ops::batch_norm_forward_train(y, saved_mean, saved_invstd, x, gamma, beta, running_mean, running_var,
                                  kMomentum, kEps, across);
    ops::relu_forward(y, y);
    return y;
  }
};

// x with exact zeros and a constant channel's worth of ties, so some normalised values land on
// the ReLU's kink.
Tensor input(const Shape& shape, uint64_t seed) {
  Tensor x = test::random_uniform(shape, seed, -2.0f, 3.0f);
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); i += 5) p[i] = 0.0f;
  return x;
}

TEST(BatchNormRelu, TrainForwardIsReluOfBatchNormBitwise) {
  for (const Shape& shape : kShapes)
    for (const ops::CrossShardSum* across : {static_cast<const ops::CrossShardSum*>(nullptr), &kOneShard}) {
      const Tensor x = input(shape, 3);
      Bn fused(shape[1], 4), separate(shape[1], 4);
      const Tensor y = fused.train(x, true, across);
      EXPECT_TRUE(test::bitwise_equal(y, separate.train(x, false, across))) << shape.str();
      EXPECT_TRUE(test::bitwise_equal(fused.saved_mean, separate.saved_mean));
      EXPECT_TRUE(test::bitwise_equal(fused.saved_invstd, separate.saved_invstd));
      EXPECT_TRUE(test::bitwise_equal(fused.running_mean, separate.running_mean));
      EXPECT_TRUE(test::bitwise_equal(fused.running_var, separate.running_var));
      int64_t zeros = 0;
      for (float v : y.to_vector<float>()) zeros += v == 0.0f;
      EXPECT_GT(zeros, 0) << "the ReLU clipped nothing: " << shape.str();
    }
}

TEST(BatchNormRelu, EvalForwardIsReluOfBatchNormBitwise) {
  for (const Shape& shape : kShapes) {
    const Tensor x = input(shape, 5);
    const Bn bn(shape[1], 6);
    Tensor fused(shape), separate(shape);
    ops::batch_norm_relu_forward_eval(fused, x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, kEps);
    ops::batch_norm_forward_eval(separate, x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, kEps);
    ops::relu_forward(separate, separate);
    EXPECT_TRUE(test::bitwise_equal(fused, separate)) << shape.str();
  }
}

TEST(BatchNormRelu, BackwardIsBatchNormBackwardOfReluBackwardBitwise) {
  for (const Shape& shape : kShapes)
    for (const ops::CrossShardSum* across : {static_cast<const ops::CrossShardSum*>(nullptr), &kOneShard}) {
      const int64_t c = shape[1];
      const Tensor x = input(shape, 7);
      Bn bn(c, 8);
      const Tensor y = bn.train(x, true, across);
      Tensor dy = test::random_uniform(shape, 9);
      dy.data<float>()[1] = -0.0f;
      // Accumulation into nonzero dgamma and dbeta.
      Tensor dx(shape), dgamma = Tensor::full({c}, 0.25f), dbeta = Tensor::full({c}, -0.5f);
      ops::batch_norm_relu_backward(dx, dgamma, dbeta, dy, y, x, bn.gamma, bn.saved_mean, bn.saved_invstd, kEps,
                                    across);
      Tensor masked(shape), dx2(shape), dgamma2 = Tensor::full({c}, 0.25f), dbeta2 = Tensor::full({c}, -0.5f);
      ops::relu_backward(masked, dy, y);
      ops::batch_norm_backward(dx2, dgamma2, dbeta2, masked, x, bn.gamma, bn.saved_mean, bn.saved_invstd, kEps,
                               across);
      EXPECT_TRUE(test::bitwise_equal(dx, dx2)) << shape.str();
      EXPECT_TRUE(test::bitwise_equal(dgamma, dgamma2)) << shape.str();
      EXPECT_TRUE(test::bitwise_equal(dbeta, dbeta2)) << shape.str();
    }
}

TEST(BatchNormRelu, GradientsMatchFiniteDifferences) {
  for (const Shape& shape : {Shape{3, 6, 5, 7}, Shape{6, 5}}) {
    const int64_t c = shape[1];
    Tensor x = test::random_uniform(shape, 10, -2, 3);
    Bn bn(c, 11);
    const Tensor r = test::random_uniform(shape, 12, -10, 10);
    const Tensor y = bn.train(x, true);
    Tensor dx(shape), dgamma = Tensor::zeros({c}, DType::F32), dbeta = Tensor::zeros({c}, DType::F32);
    ops::batch_norm_relu_backward(dx, dgamma, dbeta, r, y, x, bn.gamma, bn.saved_mean, bn.saved_invstd, kEps);
    // Elements whose normalised value is within a step of the kink are skipped (and counted).
    Tensor pre(shape);
    Bn plain(c, 11);
    ops::batch_norm_forward_train(pre, plain.saved_mean, plain.saved_invstd, x, plain.gamma, plain.beta,
                                  plain.running_mean, plain.running_var, kMomentum, kEps);
    const std::vector<float> z = pre.to_vector<float>();
    test::GradCheckOptions options;
    options.at_kink = [&](int64_t j) { return std::fabs(z[static_cast<size_t>(j)]) < 0.2f; };
    // dgamma and dbeta are not probed here: a step in gamma or beta moves a whole channel, so some
    // of its elements always cross the kink. They are batch_norm_backward's of the masked dy,
    // bitwise (above), whose own finite-difference check is in test_batch_norm.cpp.
    auto forward = [&] { return bn.train(x, true); };
    EXPECT_TRUE(test::check_gradient(forward, x, dx, r, options)) << "dx " << shape.str();
  }
}

TEST(BatchNormRelu, RejectsBadInputs) {
  Bn bn(3, 13);
  const Tensor x = input({4, 3, 2, 2}, 14);
  const Tensor y = bn.train(x, true);
  Tensor dx({4, 3, 2, 2}), dgamma({3}), dbeta({3});
  const Tensor short_y({4, 3, 2, 1});
  EXPECT_THROW(ops::batch_norm_relu_backward(dx, dgamma, dbeta, x, short_y, x, bn.gamma, bn.saved_mean,
                                             bn.saved_invstd, kEps),
               Error);
  Tensor alias = y.clone();
  EXPECT_THROW(ops::batch_norm_relu_backward(alias, dgamma, dbeta, x, alias, x, bn.gamma, bn.saved_mean,
                                             bn.saved_invstd, kEps),
               Error);
  Tensor same = x.clone();
  EXPECT_THROW(ops::batch_norm_relu_forward_train(same, bn.saved_mean, bn.saved_invstd, same, bn.gamma, bn.beta,
                                                  bn.running_mean, bn.running_var, kMomentum, kEps),
               Error);
}

// cuDNN's batch norm and our ReLU kernel against the CPU's single pass.
TEST(BatchNormReluGpu, MatchesCpu) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  for (const Shape& shape : {Shape{3, 6, 5, 7}, Shape{9, 5}}) {
    const int64_t c = shape[1];
    const Tensor x = input(shape, 15);
    Bn cpu(c, 16), dev(c, 16, gpu);
    const Tensor y = cpu.train(x, true), gy = dev.train(x.to(gpu), true);
    const double nmse = test::tol::kReductionNmse;
    EXPECT_TRUE(test::nmse_below(gy, y, nmse)) << "y " << shape.str();
    const Tensor dy = test::random_uniform(shape, 17);
    Tensor dx(shape), dgamma = Tensor::zeros({c}, DType::F32), dbeta = Tensor::zeros({c}, DType::F32);
    Tensor gdx(shape, DType::F32, gpu), gdgamma = Tensor::zeros({c}, DType::F32, gpu),
                                        gdbeta = Tensor::zeros({c}, DType::F32, gpu);
    ops::batch_norm_relu_backward(dx, dgamma, dbeta, dy, y, x, cpu.gamma, cpu.saved_mean, cpu.saved_invstd, kEps);
    // The CPU's mask: a value the two backends put on opposite sides of zero would only move the
    // comparison, not test the backward.
    ops::batch_norm_relu_backward(gdx, gdgamma, gdbeta, dy.to(gpu), y.to(gpu), x.to(gpu), dev.gamma,
                                  dev.saved_mean, dev.saved_invstd, kEps);
    EXPECT_TRUE(test::nmse_below(gdx, dx, nmse)) << "dx";
    EXPECT_TRUE(test::nmse_below(gdgamma, dgamma, nmse)) << "dgamma";
    EXPECT_TRUE(test::nmse_below(gdbeta, dbeta, nmse)) << "dbeta";
    Tensor ye(shape), gye(shape, DType::F32, gpu);
    ops::batch_norm_relu_forward_eval(ye, x, cpu.gamma, cpu.beta, cpu.running_mean, cpu.running_var, kEps);
    ops::batch_norm_relu_forward_eval(gye, x.to(gpu), dev.gamma, dev.beta, dev.running_mean, dev.running_var,
                                      kEps);
    EXPECT_TRUE(test::nmse_below(gye, ye, nmse)) << "y_eval";
  }
}

}  // namespace
}  // namespace bmc
