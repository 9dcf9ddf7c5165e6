// kernels/batch_norm_sync.cu under host emulation: the per-channel sums are the fixed-order sums
// bitwise, and the whole synchronised forward and backward (with a stand-in for the cross-shard
// all-reduce: two identical shards, every sum doubled) match the CPU backend's double-precision
// path, at several grid sizes, per-channel counts across the fixed sum's chunks, and tails.
#define BMC_KNS kernels_emu
#include "kernels/batch_norm_sync.h"

#include <gtest/gtest.h>

#include "kernels/fixed_sum.cuh"
#include "ops/batch_norm.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

struct Case {
  int64_t outer, channels, inner;
};

// Two equal shards: every cross-shard sum doubles.
void doubled(Tensor& t) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] *= 2;
}

TEST(BatchNormSyncKernelEmu, ChannelSumsAreTheFixedOrderSums) {
  const Case c{3, 4, 1500};  // 4500 values per channel: two chunks of the fixed sum
  const Tensor x = test::random_uniform({c.outer, c.channels, c.inner}, 5);
  Tensor sums({c.channels});
  kernels_emu::bn_channel_sums(sums.data<float>(), x.data<float>(), c.outer, c.channels, c.inner, nullptr);
  std::vector<float> expected(c.channels);
  const float* xs = x.data<float>();
  for (int64_t ch = 0; ch < c.channels; ++ch)
    expected[ch] = fixed_sum_host(c.outer * c.inner, [&](int64_t j) { return xs[(j / c.inner * c.channels + ch) * c.inner + j % c.inner]; });
  EXPECT_EQ(sums.to_vector<float>(), expected);
}

TEST(BatchNormSyncKernelEmu, TheSynchronisedStepsMatchTheCpuBackend) {
  const ops::CrossShardSum twice{[](double* v, int64_t n) {
                                   for (int64_t i = 0; i < n; ++i) v[i] *= 2;
                                 },
                                 doubled};
  for (const Case& c : {Case{3, 5, 2000}, Case{2, 3, 7}, Case{6, 2, 1}})
    for (int grid_limit : {1, 3, 0}) {
      const Shape shape = c.inner == 1 ? Shape{c.outer, c.channels} : Shape{c.outer, c.channels, c.inner, 1};
      const Tensor x = test::random_uniform(shape, 1), dy = test::random_uniform(shape, 2);
      const Tensor gamma = test::random_uniform({c.channels}, 3, 0.5f, 1.5f), beta = test::random_uniform({c.channels}, 4);
      // The CPU backend.
      Tensor y_ref(shape), mean_ref({c.channels}), invstd_ref({c.channels}), dx_ref(shape);
      Tensor rm_ref = Tensor::zeros({c.channels}), rv_ref = Tensor::full({c.channels}, 1.0f);
      Tensor dg_ref = Tensor::zeros({c.channels}), db_ref = Tensor::zeros({c.channels});
      ops::batch_norm_forward_train(y_ref, mean_ref, invstd_ref, x, gamma, beta, rm_ref, rv_ref, 0.1f, 1e-5f, &twice);
      ops::batch_norm_backward(dx_ref, dg_ref, db_ref, dy, x, gamma, mean_ref, invstd_ref, 1e-5f, &twice);
      // The kernels, composed as batch_norm_sync_cuda.cpp does.
      const double count = 2.0 * c.outer * c.inner;
      Tensor sums({c.channels}), squares({c.channels}), y(shape), mean({c.channels}), invstd({c.channels}), dx(shape);
      Tensor rm = Tensor::zeros({c.channels}), rv = Tensor::full({c.channels}, 1.0f);
      Tensor dg = Tensor::zeros({c.channels}), db = Tensor::zeros({c.channels}), grad_sums({2 * c.channels});
      kernels_emu::bn_channel_sums(sums.data<float>(), x.data<float>(), c.outer, c.channels, c.inner, nullptr);
      doubled(sums);
      kernels_emu::bn_channel_squares(squares.data<float>(), x.data<float>(), sums.data<float>(), count, c.outer,
                                      c.channels, c.inner, nullptr);
      doubled(squares);
      kernels_emu::bn_finish_stats(mean.data<float>(), invstd.data<float>(), rm.data<float>(), rv.data<float>(),
                                   sums.data<float>(), squares.data<float>(), count, 0.1f, 1e-5f, c.channels, nullptr);
      kernels_emu::bn_normalize(y.data<float>(), x.data<float>(), mean.data<float>(), invstd.data<float>(),
                                gamma.data<float>(), beta.data<float>(), c.outer, c.channels, c.inner, nullptr,
                                grid_limit);
      kernels_emu::bn_backward_sums(grad_sums.data<float>(), dg.data<float>(), db.data<float>(), dy.data<float>(),
                                    x.data<float>(), mean.data<float>(), invstd.data<float>(), c.outer, c.channels,
                                    c.inner, nullptr);
      doubled(grad_sums);
      kernels_emu::bn_backward_input(dx.data<float>(), dy.data<float>(), x.data<float>(), mean.data<float>(),
                                     invstd.data<float>(), gamma.data<float>(), grad_sums.data<float>(), count,
                                     c.outer, c.channels, c.inner, nullptr, grid_limit);
      SCOPED_TRACE(testing::Message() << "outer " << c.outer << " channels " << c.channels << " inner " << c.inner
                                      << " grid_limit " << grid_limit);
      EXPECT_TRUE(test::all_close(mean, mean_ref, 1e-6f, 1e-5f));
      EXPECT_TRUE(test::all_close(invstd, invstd_ref, 1e-6f, 1e-5f));
      EXPECT_TRUE(test::all_close(rm, rm_ref, 1e-6f, 1e-5f));
      EXPECT_TRUE(test::all_close(rv, rv_ref, 1e-6f, 1e-5f));
      EXPECT_TRUE(test::all_close(y, y_ref, 1e-5f, 1e-5f));
      EXPECT_TRUE(test::all_close(dg, dg_ref, 1e-4f, 1e-5f));
      EXPECT_TRUE(test::all_close(db, db_ref, 1e-4f, 1e-5f));
      EXPECT_TRUE(test::all_close(dx, dx_ref, 1e-5f, 1e-4f));
    }
}

}  // namespace
}  // namespace bmc
