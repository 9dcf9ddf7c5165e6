// kernels/topk.cu under host emulation vs the CPU op, exactly, at several grid sizes.
#define BMC_KNS kernels_emu
#include "kernels/topk.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ops/loss.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

TEST(TopkKernelEmu, CountsMatchTheCpuOp) {
  const int64_t n = 300, k = 10;
  // Logits rounded to a coarse grid so many rows hold ties; one NaN logit.
  Tensor logits = test::random_uniform({n, k}, 80, -3, 3);
  for (int64_t i = 0; i < logits.numel(); ++i) logits.data<float>()[i] = std::round(logits.data<float>()[i]);
  logits.data<float>()[17] = NAN;
  std::vector<int32_t> lv(n);
  for (int64_t i = 0; i < n; ++i) lv[static_cast<size_t>(i)] = static_cast<int32_t>((i * 13 + 1) % k);
  const Tensor labels = Tensor::from_vector<int32_t>(lv, {n});
  for (int top_k : {1, 3, 10}) {
    Tensor expected(Shape{}, DType::I32);
    ops::topk_correct(expected, logits, labels, top_k);
    for (int grid_limit : {1, 2, 7, 0}) {
      Tensor correct = Tensor::from_vector<int32_t>({-5}, Shape{});  // overwritten, not accumulated
      kernels_emu::topk_correct(correct.data<int32_t>(), logits.data<float>(), labels.data<int32_t>(), n, k, top_k,
                                nullptr, grid_limit);
      EXPECT_EQ(correct.to_vector<int32_t>(), expected.to_vector<int32_t>())
          << "top_k " << top_k << " grid_limit " << grid_limit;
    }
  }
}

TEST(TopkKernelEmu, OutOfRangeLabelCountsAsWrong) {
  const Tensor logits = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  const Tensor labels = Tensor::from_vector<int32_t>({1, 2}, {2});
  Tensor correct(Shape{}, DType::I32);
  kernels_emu::topk_correct(correct.data<int32_t>(), logits.data<float>(), labels.data<int32_t>(), 2, 2, 2, nullptr);
  EXPECT_EQ(correct.to_vector<int32_t>()[0], 1);
}

}  // namespace
}  // namespace bmc
