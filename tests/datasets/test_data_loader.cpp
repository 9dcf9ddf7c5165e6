// DataLoader: batches as a pure function of the step (determinism, resumption), epoch
// permutations, drop_last, augmentation semantics, and the GPU parity suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "datasets/data_loader.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"

namespace bmc {
namespace {

// n synthetic (C, H, W) u8 images with recognisable pixels; label = index % classes.
data::Dataset synthetic(int64_t n, int64_t c, int64_t h, int64_t w, int classes = 10) {
  data::Dataset d;
  d.name = "synthetic";
  d.num_classes = classes;
  d.images = Tensor({n, c, h, w}, DType::U8);
  d.labels = Tensor({n}, DType::I32);
  uint8_t* px = d.images.data<uint8_t>();
  for (int64_t i = 0; i < d.images.numel(); ++i) px[i] = static_cast<uint8_t>((i * 7 + i / 13) % 256);
  for (int64_t i = 0; i < n; ++i) d.labels.data<int32_t>()[i] = static_cast<int32_t>(i % classes);
  return d;
}

data::LoaderOptions cifar_options(uint64_t seed, int batch = 16) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.seed = seed;
  o.augment = data::Augment::CropFlip;
  o.norm = {{0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.3f}};
  return o;
}

TEST(DataLoader, StepsPerEpochAndLastBatch) {
  const data::Dataset d = synthetic(50, 1, 4, 4);
  data::LoaderOptions o;
  o.batch_size = 16;
  data::DataLoader keep(d, Device::cpu(), o);
  EXPECT_EQ(keep.steps_per_epoch(), 4);
  Tensor x, y;
  keep.batch(3, x, y);
  EXPECT_EQ(x.shape(), Shape({2, 1, 4, 4}));
  keep.batch(4, x, y);  // epoch 1, first batch: full again
  EXPECT_EQ(y.numel(), 16);
  o.drop_last = true;
  data::DataLoader drop(d, Device::cpu(), o);
  EXPECT_EQ(drop.steps_per_epoch(), 3);
  drop.batch(2, x, y);
  EXPECT_EQ(y.numel(), 16);
}

TEST(DataLoader, EachEpochVisitsEverySampleOnceInANewOrder) {
  const data::Dataset d = synthetic(37, 1, 2, 2, 37);  // label = index: y reveals the order
  data::LoaderOptions o;
  o.batch_size = 8;
  o.seed = 5;
  data::DataLoader loader(d, Device::cpu(), o);
  std::vector<std::vector<int32_t>> epochs(2);
  Tensor x, y;
  for (int64_t step = 0; step < 2 * loader.steps_per_epoch(); ++step) {
    loader.batch(step, x, y);
    for (int32_t v : y.to_vector<int32_t>()) epochs[step / loader.steps_per_epoch()].push_back(v);
  }
  for (const auto& e : epochs) {
    EXPECT_EQ(std::set<int32_t>(e.begin(), e.end()).size(), 37u);
    EXPECT_EQ(e.size(), 37u);
  }
  EXPECT_NE(epochs[0], epochs[1]);
  std::vector<int32_t> identity(37);
  for (int i = 0; i < 37; ++i) identity[i] = i;
  EXPECT_NE(epochs[0], identity);
  o.shuffle = false;
  data::DataLoader ordered(d, Device::cpu(), o);
  ordered.batch(1, x, y);
  EXPECT_EQ(y.to_vector<int32_t>(), std::vector<int32_t>(identity.begin() + 8, identity.begin() + 16));
}

TEST(DataLoader, SameSeedSameBatchesAndResumeEqualsContinuing) {
  const data::Dataset d = synthetic(40, 3, 8, 8);
  const data::DataLoader a(d, Device::cpu(), cifar_options(11));
  Tensor xa, ya, xb, yb;
  // Continuing from step 0 vs a fresh loader that starts (resumes) at step k.
  std::vector<std::vector<float>> continuing;
  for (int64_t step = 0; step < 8; ++step) {
    a.batch(step, xa, ya);
    continuing.push_back(xa.to_vector<float>());
  }
  for (int64_t k : {7, 3, 5}) {
    const data::DataLoader resumed(d, Device::cpu(), cifar_options(11));
    resumed.batch(k, xb, yb);
    EXPECT_EQ(xb.to_vector<float>(), continuing[k]) << "step " << k;
  }
  const data::DataLoader other(d, Device::cpu(), cifar_options(12));
  other.batch(0, xb, yb);
  EXPECT_NE(xb.to_vector<float>(), continuing[0]);
}

TEST(DataLoader, CropFlipIsAShiftedMirroredCopyWithZeroPadding) {
  // One 1x6x6 image; every augmented output must equal some (dy, dx, flip) of the source with
  // 0 outside, and over many epochs several distinct crops and both flips must appear.
  data::Dataset d = synthetic(1, 1, 6, 6, 1);
  data::LoaderOptions o;
  o.batch_size = 1;
  o.augment = data::Augment::CropFlip;
  o.seed = 3;
  const data::DataLoader loader(d, Device::cpu(), o);
  const uint8_t* src = d.images.data<uint8_t>();
  std::set<std::tuple<int, int, bool>> seen;
  Tensor x, y;
  for (int64_t step = 0; step < 200; ++step) {
    loader.batch(step, x, y);
    const std::vector<float> out = x.to_vector<float>();
    bool matched = false;
    for (int dy = -4; dy <= 4 && !matched; ++dy)
      for (int dx = -4; dx <= 4 && !matched; ++dx)
        for (bool flip : {false, true}) {
          bool all = true;
          for (int r = 0; r < 6 && all; ++r)
            for (int c = 0; c < 6 && all; ++c) {
              const int sx = (flip ? 5 - c : c) + dx, sy = r + dy;
              const float v = (sy >= 0 && sy < 6 && sx >= 0 && sx < 6) ? src[sy * 6 + sx] / 255.0f : 0.0f;
              all = out[r * 6 + c] == v;
            }
          if (all) {
            matched = true;
            seen.insert({dy, dx, flip});
            break;
          }
        }
    EXPECT_TRUE(matched) << "step " << step;
  }
  EXPECT_GT(seen.size(), 40u);  // 162 combinations, 200 draws
  EXPECT_TRUE(seen.count({0, 0, false}) + seen.count({0, 0, true}) <= 2);
}

TEST(DataLoader, NoAugmentNormalisesLikeToTensorNormalize) {
  const data::Dataset d = synthetic(3, 3, 2, 2);
  data::LoaderOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  o.norm = {{0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.3f}};
  const data::DataLoader loader(d, Device::cpu(), o);
  Tensor x, y;
  loader.batch(0, x, y);
  const auto px = d.images.to_vector<uint8_t>();
  const auto out = x.to_vector<float>();
  for (size_t i = 0; i < px.size(); ++i) {
    const size_t c = (i / 4) % 3;
    EXPECT_EQ(out[i], (px[i] / 255.0f - o.norm.mean[c]) / o.norm.std[c]) << i;
  }
}

TEST(DataLoader, BadOptionsAreRefused) {
  const data::Dataset d = synthetic(4, 3, 2, 2);
  data::LoaderOptions o;
  o.batch_size = 0;
  EXPECT_THROW(data::DataLoader(d, Device::cpu(), o), Error);
  o.batch_size = 8;
  o.norm = {{0.5f}, {0.5f}};  // one channel's statistics for three channels
  EXPECT_THROW(data::DataLoader(d, Device::cpu(), o), Error);
  o.norm = {};
  o.drop_last = true;
  const data::DataLoader empty(d, Device::cpu(), o);
  Tensor x, y;
  EXPECT_THROW(empty.batch(0, x, y), Error);
  data::Dataset bad = synthetic(4, 3, 2, 2, 2);
  bad.labels.data<int32_t>()[1] = 7;
  EXPECT_THROW(data::DataLoader(bad, Device::cpu(), data::LoaderOptions{}), Error);
}

TEST(DataLoaderGpu, AugmentedBatchesAreBitwiseTheCpuBatches) {
  BMC_REQUIRE_CUDA_DEVICE();
  const data::Dataset d = synthetic(300, 3, 32, 32);
  for (bool augment : {false, true}) {
    data::LoaderOptions o = cifar_options(21, 64);
    if (!augment) o.augment = data::Augment::None;
    const data::DataLoader cpu(d, Device::cpu(), o);
    const data::DataLoader gpu(d, Device::cuda(0), o);
    Tensor xc, yc, xg, yg;
    for (int64_t step : {0, 4, 5, 9, 123}) {  // includes short last batches and later epochs
      cpu.batch(step, xc, yc);
      gpu.batch(step, xg, yg);
      EXPECT_EQ(xg.device(), Device::cuda(0));
      EXPECT_TRUE(test::bitwise_equal(xg.to(Device::cpu()), xc)) << "step " << step << " augment " << augment;
      EXPECT_TRUE(test::bitwise_equal(yg.to(Device::cpu()), yc)) << "step " << step;
    }
  }
}

}  // namespace
}  // namespace bmc
