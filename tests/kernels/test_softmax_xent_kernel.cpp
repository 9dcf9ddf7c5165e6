// kernels/softmax_xent.cu under host emulation vs the CPU op, bitwise (the same cores and the same
// reduction order), at several grid sizes and shapes around the warp width and the 256 partials.
#define BMC_KNS kernels_emu
#include "kernels/softmax_xent.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ops/loss.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

Tensor labels_for(int64_t n, int64_t k) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>((i * 31 + 7) % k);
  return Tensor::from_vector<int32_t>(v, {n});
}

struct Case {
  int64_t n, k;
};

TEST(SoftmaxXentKernelEmu, ForwardAndBackwardAreBitwiseTheCpuOp) {
  for (const Case c : {Case{1, 1}, Case{3, 10}, Case{5, 7}, Case{9, 33}, Case{300, 10}, Case{6, 70}}) {
    const Tensor logits = test::random_uniform({c.n, c.k}, 70 + c.k, -6, 6);
    const Tensor labels = labels_for(c.n, c.k);
    Tensor loss(Shape{}), probs({c.n, c.k}), dlogits({c.n, c.k});
    ops::softmax_cross_entropy_forward(loss, probs, logits, labels);
    ops::softmax_cross_entropy_backward(dlogits, probs, labels);
    for (int grid_limit : {1, 2, 7, 0}) {
      Tensor eloss(Shape{}), eprobs({c.n, c.k}), row_loss({c.n}), edlogits({c.n, c.k});
      kernels_emu::softmax_xent_forward(eloss.data<float>(), eprobs.data<float>(), row_loss.data<float>(),
                                        logits.data<float>(), labels.data<int32_t>(), c.n, c.k, nullptr, grid_limit);
      kernels_emu::softmax_xent_backward(edlogits.data<float>(), eprobs.data<float>(), labels.data<int32_t>(), c.n,
                                         c.k, nullptr, grid_limit);
      const std::string where = "n " + std::to_string(c.n) + " k " + std::to_string(c.k) + " grid_limit " +
                                std::to_string(grid_limit);
      EXPECT_TRUE(test::bitwise_equal(eprobs, probs)) << where;
      EXPECT_TRUE(test::bitwise_equal(eloss, loss)) << where;
      EXPECT_TRUE(test::bitwise_equal(edlogits, dlogits)) << where;
    }
  }
}

TEST(SoftmaxXentKernelEmu, OutOfRangeLabelMakesTheLossNaN) {
  // The documented GPU behaviour (the CPU op throws instead).
  const Tensor logits = test::random_uniform({3, 4}, 71);
  const Tensor labels = Tensor::from_vector<int32_t>({0, 4, 1}, {3});
  Tensor loss(Shape{}), probs({3, 4}), row_loss({3});
  kernels_emu::softmax_xent_forward(loss.data<float>(), probs.data<float>(), row_loss.data<float>(),
                                    logits.data<float>(), labels.data<int32_t>(), 3, 4, nullptr);
  EXPECT_TRUE(std::isnan(loss.data<float>()[0]));
  EXPECT_TRUE(std::isfinite(row_loss.data<float>()[0]));
  EXPECT_TRUE(std::isnan(row_loss.data<float>()[1]));
}

}  // namespace
}  // namespace bmc
