// The pieces of data-parallel training that run in one process: the shards of a global batch
// (their union is the batch, in order, augmented alike) and synchronised batch norm's sums over
// shards (two equal shards give one shard's normalisation, with the union's element count).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "datasets/data_loader.h"
#include "ops/batch_norm.h"
#include "ops/elementwise.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/train/synthetic.h"

namespace bmc {
namespace {

TEST(Shard, RowsSplitEveryBatchIntoContiguousPartsThatCoverIt) {
  for (int count : {1, 2, 3, 8})
    for (int64_t rows : {8, 9, 17, 128, 3}) {
      int64_t next = 0;
      for (int r = 0; r < count; ++r) {
        const auto [first, n] = (data::Shard{r, count}).rows(rows);
        EXPECT_EQ(first, next);
        EXPECT_GE(n, rows / count);
        EXPECT_LE(n, rows / count + 1);
        next = first + n;
      }
      EXPECT_EQ(next, rows);
    }
}

TEST(Shard, TheShardsOfALoaderAreTheRowsOfTheGlobalBatchAugmentedAlike) {
  const data::Dataset data = test::synthetic_dataset(50, 3);
  data::LoaderOptions options = test::synthetic_loader_options(true);
  options.batch_size = 16;
  options.augment = data::Augment::CropFlip;
  const data::DataLoader whole(data, Device::cpu(), options);
  for (int64_t step : {0, 3, 7}) {  // step 3 is the epoch's short last batch (2 rows)
    Tensor x, y;
    whole.batch(step, x, y);
    const auto xs = x.to_vector<float>();
    const auto ys = y.to_vector<int32_t>();
    const int64_t per_row = x.numel() / x.dim(0);
    std::vector<float> joined_x;
    std::vector<int32_t> joined_y;
    for (int r = 0; r < 3; ++r) {
      options.shard = {r, 3};
      const data::DataLoader part(data, Device::cpu(), options);
      Tensor px, py;
      part.batch(step, px, py);
      EXPECT_EQ(px.dim(0), (data::Shard{r, 3}.rows(x.dim(0)).second));
      const auto a = px.to_vector<float>();
      const auto b = py.to_vector<int32_t>();
      joined_x.insert(joined_x.end(), a.begin(), a.end());
      joined_y.insert(joined_y.end(), b.begin(), b.end());
    }
    EXPECT_EQ(static_cast<int64_t>(joined_x.size()), x.dim(0) * per_row);
    EXPECT_TRUE(joined_x == xs) << "step " << step;
    EXPECT_TRUE(joined_y == ys) << "step " << step;
  }
}

// Two identical shards: the sums double, the counts too, so mean, variance and dx are one
// shard's; the running variance's unbiased correction uses the union's 2M elements.
TEST(SyncBatchNorm, TwoEqualShardsNormaliseAsOneWithTheUnionsCount) {
  const int64_t n = 4, c = 3, hw = 5;
  Tensor x({n, c, hw, 1}), dy({n, c, hw, 1});
  fill_normal(x, 11, 0);
  fill_normal(dy, 11, 1);
  const Tensor gamma = Tensor::full({c}, 1.5f), beta = Tensor::full({c}, 0.25f);
  const ops::CrossShardSum twice{[](double* v, int64_t k) {
                                   for (int64_t i = 0; i < k; ++i) v[i] *= 2;
                                 },
                                 nullptr};
  struct Out {
    Tensor y, mean, invstd, rm, rv, dx, dg, db;
  };
  auto run = [&](const ops::CrossShardSum* across) {
    Out o{Tensor({n, c, hw, 1}), Tensor({c}), Tensor({c}), Tensor::zeros({c}), Tensor::full({c}, 1.0f),
          Tensor({n, c, hw, 1}), Tensor::zeros({c}), Tensor::zeros({c})};
    ops::batch_norm_forward_train(o.y, o.mean, o.invstd, x, gamma, beta, o.rm, o.rv, 0.1f, 1e-5f, across);
    ops::batch_norm_backward(o.dx, o.dg, o.db, dy, x, gamma, o.mean, o.invstd, 1e-5f, across);
    return o;
  };
  const Out one = run(nullptr), two = run(&twice);
  EXPECT_TRUE(one.y.to_vector<float>() == two.y.to_vector<float>());
  EXPECT_TRUE(one.mean.to_vector<float>() == two.mean.to_vector<float>());
  EXPECT_TRUE(one.rm.to_vector<float>() == two.rm.to_vector<float>());
  EXPECT_TRUE(one.dg.to_vector<float>() == two.dg.to_vector<float>()) << "dgamma stays this shard's";
  EXPECT_TRUE(one.db.to_vector<float>() == two.db.to_vector<float>());
  const auto dx1 = one.dx.to_vector<float>(), dx2 = two.dx.to_vector<float>();
  for (size_t i = 0; i < dx1.size(); ++i) EXPECT_NEAR(dx1[i], dx2[i], 1e-6f);
  // running_var = 0.9 + 0.1 * var_biased * count / (count - 1), count 20 for one shard, 40 for two.
  const auto s = one.invstd.to_vector<float>();
  const auto rv1 = one.rv.to_vector<float>(), rv2 = two.rv.to_vector<float>();
  for (int64_t k = 0; k < c; ++k) {
    const double var_biased = 1.0 / (double(s[k]) * s[k]) - 1e-5;
    EXPECT_NEAR(rv1[k], 0.9 + 0.1 * var_biased * 20 / 19, 1e-5);
    EXPECT_NEAR(rv2[k], 0.9 + 0.1 * var_biased * 40 / 39, 1e-5);
  }
}

// Our synchronised batch-norm kernels on a GPU against the CPU backend, two equal shards as above,
// at a ResNet stage's size (2 M elements: every grid-stride loop iterates).
TEST(SyncBatchNormGpu, MatchesTheCpuBackend) {
  BMC_REQUIRE_CUDA_DEVICE();
  const Device gpu = Device::cuda(0);
  const Shape shape{128, 16, 32, 32};
  const ops::CrossShardSum twice{[](double* v, int64_t k) {
                                   for (int64_t i = 0; i < k; ++i) v[i] *= 2;
                                 },
                                 [](Tensor& t) { ops::scale(t, 2.0f); }};
  const Tensor x = test::random_uniform(shape, 1), dy = test::random_uniform(shape, 2);
  const Tensor gamma = test::random_uniform({16}, 3, 0.5f, 1.5f), beta = test::random_uniform({16}, 4);
  struct Out {
    Tensor y, mean, invstd, rm, rv, dx, dg, db;
  };
  auto run = [&](Device d) {
    const Tensor xd = x.to(d), dyd = dy.to(d), gd = gamma.to(d), bd = beta.to(d);
    Out o{Tensor(shape, DType::F32, d), Tensor({16}, DType::F32, d), Tensor({16}, DType::F32, d),
          Tensor::zeros({16}, DType::F32, d), Tensor::full({16}, 1.0f, d), Tensor(shape, DType::F32, d),
          Tensor::zeros({16}, DType::F32, d), Tensor::zeros({16}, DType::F32, d)};
    ops::batch_norm_forward_train(o.y, o.mean, o.invstd, xd, gd, bd, o.rm, o.rv, 0.1f, 1e-5f, &twice);
    ops::batch_norm_backward(o.dx, o.dg, o.db, dyd, xd, gd, o.mean, o.invstd, 1e-5f, &twice);
    return o;
  };
  const Out cpu = run(Device::cpu()), cuda = run(gpu);
  EXPECT_TRUE(test::all_close(cuda.y.to(Device::cpu()), cpu.y, 1e-5f, 1e-4f));
  EXPECT_TRUE(test::all_close(cuda.rv.to(Device::cpu()), cpu.rv, 1e-6f, 1e-5f));
  EXPECT_TRUE(test::all_close(cuda.dx.to(Device::cpu()), cpu.dx, 1e-5f, 1e-3f));
  EXPECT_TRUE(test::all_close(cuda.dg.to(Device::cpu()), cpu.dg, 1e-2f, 1e-4f));
}

}  // namespace
}  // namespace bmc
