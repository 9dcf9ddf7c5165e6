// kernels/augment.cu under host emulation vs the DataLoader's CPU loop (same core): bitwise equal
// at several grid sizes.
#define BMC_KNS kernels_emu
#include "kernels/augment.h"

#include <gtest/gtest.h>

#include <set>

#include "datasets/data_loader.h"
#include "tests/support/compare.h"

namespace bmc {
namespace {

TEST(AugmentKernelEmu, GatherIsBitwiseTheCpuLoaderAtAnyGrid) {
  const int64_t n = 23, c = 3, h = 7, w = 5;  // odd sizes: crops reach past every edge
  data::Dataset d;
  d.name = "synthetic";
  d.num_classes = 4;
  d.images = Tensor({n, c, h, w}, DType::U8);
  d.labels = Tensor({n}, DType::I32);
  for (int64_t i = 0; i < d.images.numel(); ++i) d.images.data<uint8_t>()[i] = static_cast<uint8_t>(i * 29 % 256);
  for (int64_t i = 0; i < n; ++i) d.labels.data<int32_t>()[i] = static_cast<int32_t>(i % 4);
  data::LoaderOptions o;
  o.batch_size = 6;
  o.seed = 77;
  o.augment = data::Augment::CropFlip;
  o.norm = {{0.1f, 0.2f, 0.3f}, {0.7f, 0.5f, 0.9f}};
  const data::DataLoader loader(d, Device::cpu(), o);
  for (int64_t step : {0, 3, 9}) {  // step 3: the short last batch; step 9: epoch 2
    Tensor expected_x, expected_y;
    loader.batch(step, expected_x, expected_y);
    const int64_t spe = loader.steps_per_epoch(), epoch = step / spe, begin = (step % spe) * o.batch_size;
    const std::vector<int64_t> order = data::epoch_order(n, o.seed, static_cast<uint64_t>(epoch), true);
    const int64_t b = expected_y.numel();
    std::vector<int64_t> indices(order.begin() + begin, order.begin() + begin + b);
    for (int grid_limit : {1, 2, 5, 0}) {
      Tensor x({b, c, h, w}), y({b}, DType::I32);
      kernels_emu::AugmentBatchArgs args{};
      args.x = x.data<float>();
      args.y = y.data<int32_t>();
      args.images = d.images.data<uint8_t>();
      args.labels = d.labels.data<int32_t>();
      args.indices = indices.data();
      args.batch = b;
      args.channels = c;
      args.height = h;
      args.width = w;
      args.seed = o.seed;
      args.epoch = static_cast<uint32_t>(epoch);
      args.first_position = static_cast<uint64_t>(begin);
      args.pad = data::kCropPadding;
      args.crop_flip = true;
      for (int ch = 0; ch < 3; ++ch) {
        args.norm.mean[ch] = o.norm.mean[ch];
        args.norm.std[ch] = o.norm.std[ch];
      }
      kernels_emu::augment_batch(args, nullptr, grid_limit);
      EXPECT_TRUE(test::bitwise_equal(x, expected_x)) << "step " << step << " grid_limit " << grid_limit;
      EXPECT_TRUE(test::bitwise_equal(y, expected_y)) << "step " << step << " grid_limit " << grid_limit;
    }
  }
}

TEST(AugmentCore, DrawsCoverEveryOffsetAndBothFlips) {
  std::set<int> dys, dxs;
  int flips = 0;
  for (uint64_t p = 0; p < 2000; ++p) {
    const SampleTransform t = sample_transform(9, 1, p, 4, true);
    dys.insert(t.dy);
    dxs.insert(t.dx);
    flips += t.flip;
  }
  EXPECT_EQ(dys.size(), 9u);
  EXPECT_EQ(dxs.size(), 9u);
  EXPECT_EQ(*dys.begin(), -4);
  EXPECT_EQ(*dys.rbegin(), 4);
  EXPECT_GT(flips, 900);
  EXPECT_LT(flips, 1100);
  const SampleTransform none = sample_transform(9, 1, 5, 4, false);
  EXPECT_EQ(none.dy, 0);
  EXPECT_FALSE(none.flip);
}

}  // namespace
}  // namespace bmc
