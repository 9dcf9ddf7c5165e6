// Image folders: the real CIFAR-10 JPEG class folders (extracted once into the temp dir), small
// synthetic PNG folders, the flat validation layout, the decoded cache, transforms and bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "datasets/image.h"
#include "datasets/folder_loader.h"
#include "datasets/image_folder.h"
#include "datasets/image_stream_loader.h"
#include "tests/datasets/data_files.h"
#include "tests/support/compare.h"
#include "tests/support/gpu_env.h"
#include "tests/support/warnings.h"

namespace bmc {
namespace {
namespace fs = std::filesystem;

void expect_error_containing(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    for (const auto& f : fragments) EXPECT_NE(e.message().find(f), std::string::npos) << e.message();
  }
}

TEST(ImageFolderReal, Cifar10JpegHas10ClassesOf5000Decoded32x32x3) {
  const std::string root = test::real_cifar10_jpeg_root();
  if (root.empty()) GTEST_SKIP() << "../shared/datasets/cifar10-jpeg/train.tar.gz not present";
  data::ImageFolderOptions o;
  o.name = "cifar10";
  const data::Dataset d = data::load_image_folder(root, o);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                     "horse", "ship", "truck"}));
  EXPECT_EQ(d.images.shape(), Shape({50000, 3, 32, 32}));
  std::vector<int> per_class(10, 0);
  for (int32_t y : d.labels.to_vector<int32_t>()) ++per_class[y];
  EXPECT_EQ(per_class, std::vector<int>(10, 5000));
  // Labels follow the sorted class folders: sample 5000 is the first automobile.
  EXPECT_EQ(d.labels.to_vector<int32_t>()[4999], 0);
  EXPECT_EQ(d.labels.to_vector<int32_t>()[5000], 1);
  // Decoded pixels look like CIFAR: mean near CIFAR-10's 0.47, not flat.
  double sum = 0;
  const uint8_t* px = d.images.data<uint8_t>();
  for (int64_t i = 0; i < d.images.numel(); ++i) sum += px[i];
  EXPECT_NEAR(sum / d.images.numel() / 255.0, 0.473, 0.02);
  // The first image equals a direct decode of its file.
  const data::Image first = data::load_image_rgb(root + "/train/airplane/0000.jpg");
  std::vector<uint8_t> chw(3 * 32 * 32);
  data::to_chw(first, chw.data());
  EXPECT_EQ(std::vector<uint8_t>(px, px + chw.size()), chw);
}

// A class-folder tree of 8x6 PNGs: class "b" (3 images) and class "a" (2), plus a stray text file.
class ImageFolderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) add("train/b/img" + std::to_string(i) + ".png", 10 + i);
    for (int i = 0; i < 2; ++i) add("train/a/" + std::to_string(i) + ".PNG", 20 + i);
    test::write_bytes(dir_ / "train/a/notes.txt", {'h', 'i'});
  }
  void add(const std::string& rel, int seed, int w = 8, int h = 6, int channels = 3) {
    test::write_bytes(dir_ / rel, test::png_bytes(w, h, channels, test::pattern_pixels(w, h, channels, seed)));
  }
  // For the streaming tests: class "c" of six 23x17 images added, the listing of the folder, and
  // options of batches of 4 crops of 5x5 from seed 8.
  data::ImageList stream_list() {
    for (int i = 0; i < 6; ++i) add("train/c/big" + std::to_string(i) + ".png", 40 + i, 23, 17);
    return data::list_image_folder(dir_.path(), {});
  }
  static data::StreamOptions stream_options() {
    data::StreamOptions o;
    o.batch_size = 4;
    o.crop_size = 5;
    o.seed = 8;
    return o;
  }
  test::TempDir dir_;
};

TEST_F(ImageFolderFiles, ClassesSortedAndPixelsExact) {
  const data::Dataset d = data::load_image_folder(dir_.path(), {});
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.labels.to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 1, 1, 1}));
  EXPECT_EQ(d.images.shape(), Shape({5, 3, 6, 8}));
  std::vector<uint8_t> chw(3 * 6 * 8);
  data::Image img;
  img.width = 8;
  img.height = 6;
  img.channels = 3;
  img.pixels = test::pattern_pixels(8, 6, 3, 11);  // train/b/img1.png is sample 3
  data::to_chw(img, chw.data());
  const auto all = d.images.to_vector<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(all.begin() + 3 * 144, all.begin() + 4 * 144), chw);
}

TEST_F(ImageFolderFiles, GrayscaleBecomesRgb) {
  add("train/a/gray.png", 5, 8, 6, 1);
  const data::Dataset d = data::load_image_folder(dir_.path(), {});
  const auto gray = test::pattern_pixels(8, 6, 1, 5);
  const auto all = d.images.to_vector<uint8_t>();
  // gray.png sorts after 0.PNG and 1.PNG in class a: sample 2; all three planes equal the gray image.
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(std::vector<uint8_t>(all.begin() + 2 * 144 + c * 48, all.begin() + 2 * 144 + (c + 1) * 48), gray);
}

TEST_F(ImageFolderFiles, CorruptImageFailsNamingTheFileOrIsSkippedWithAWarning) {
  test::write_bytes(dir_ / "train/b/broken.jpg", {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3});
  expect_error_containing([&] { data::load_image_folder(dir_.path(), {}); },
                          {dir_ / "train/b/broken.jpg", "--skip-bad-images"});
  data::ImageFolderOptions o;
  o.skip_bad_images = true;
  data::ImageFolderStats stats;
  test::ExpectWarnings warnings;
  const data::Dataset d = data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(d.size(), 5);
  EXPECT_EQ(warnings.count(), 2);  // the file, then the summary
}

TEST_F(ImageFolderFiles, MixedSizesNeedTheResizeTransform) {
  add("train/a/big.png", 3, 40, 30);
  expect_error_containing([&] { data::load_image_folder(dir_.path(), {}); }, {"big.png", "40x30"});
  data::ImageFolderOptions o;
  o.transform = data::ImageTransform::ResizeCenterCrop;
  o.resize_size = 6;
  o.crop_size = 4;
  const data::Dataset d = data::load_image_folder(dir_.path(), o);
  EXPECT_EQ(d.images.shape(), Shape({6, 3, 4, 4}));
}

TEST_F(ImageFolderFiles, EmptyClassNonImageAndMissingFoldersAreRefused) {
  fs::create_directories(dir_ / "train/c");
  expect_error_containing([&] { data::load_image_folder(dir_.path(), {}); }, {dir_ / "train/c", "no images"});
  fs::remove(dir_ / "train/c");
  test::write_bytes(dir_ / "train/a/fake.png", {'n', 'o', 't', ' ', 'p', 'n', 'g'});
  expect_error_containing([&] { data::load_image_folder(dir_.path(), {}); }, {"fake.png", "not a readable image"});
  data::ImageFolderOptions o;
  o.split = "val";
  expect_error_containing([&] { data::load_image_folder(dir_.path(), o); }, {"val", "does not exist"});
}

TEST_F(ImageFolderFiles, CmykJpegIsRefusedClearly) {
  // SOI, then a baseline SOF0 frame header declaring 4 components (Adobe CMYK).
  const std::vector<uint8_t> cmyk = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04,
                                     1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 0xFF, 0xD9};
  expect_error_containing([&] { data::decode_image_rgb(cmyk, "cmyk.jpg"); }, {"cmyk.jpg", "CMYK"});
}

TEST(ImageDecode, OversizedHuffmanTableIsRefusedBeforeStbSeesIt) {
  // Regression for a fuzz finding: a DHT table declaring 16 x 32 = 512 codes made stb_image write
  // past its 257-entry size table. Fill bytes before SOI are skipped, as stb does.
  std::vector<uint8_t> jpeg(26, 0x20);
  const uint8_t head[] = {0xFF, 0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00};
  std::copy(std::begin(head), std::end(head), jpeg.begin());
  jpeg[24] = 0xFF;
  jpeg[25] = 0xD9;
  expect_error_containing([&] { data::decode_image_rgb(jpeg, "huff.jpg"); }, {"huff.jpg", "Huffman table declares 512"});
}

TEST(ImageDecode, PnmHeaderNumbersBeyondAnIntAreRefusedBeforeStbSeesThem) {
  // Regression for a fuzz finding: stb's PNM reader overflowed an int (undefined behaviour) on the
  // width "612616612616126" of this 21-byte P6 header.
  const std::string text = "P612616612616126126\x32\x10";
  const std::vector<uint8_t> pnm(text.begin(), text.end());
  expect_error_containing([&] { data::decode_image_rgb(pnm, "big.ppm"); }, {"big.ppm", "corrupt PNM header"});
  // A small valid P6 still decodes: 2 x 1, maxval 255, after a comment.
  const std::string ok = std::string("P6\n# c\n2 1\n255\n") + std::string("\x01\x02\x03\x04\x05\x06", 6);
  const data::Image img = data::decode_image_rgb(std::vector<uint8_t>(ok.begin(), ok.end()), "ok.ppm");
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.height, 1);
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(ImageFolderFiles, FlatValidationLayoutWithLabelsFile) {
  add("val/x1.png", 1);
  add("val/x2.png", 2);
  add("val/x3.png", 3);
  const std::string labels = "x2.png b\nx1.png a\n\nx3.png 1\n";
  test::write_bytes(dir_ / "val_labels.txt", std::vector<uint8_t>(labels.begin(), labels.end()));
  data::ImageFolderOptions o;
  o.split = "val";
  o.labels_file = dir_ / "val_labels.txt";
  const data::Dataset d = data::load_image_folder(dir_.path(), o);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"a", "b"}));  // from train/
  EXPECT_EQ(d.labels.to_vector<int32_t>(), (std::vector<int32_t>{1, 0, 1}));
  const std::string bad = "x1.png zebra\n";
  test::write_bytes(dir_ / "val_labels.txt", std::vector<uint8_t>(bad.begin(), bad.end()));
  expect_error_containing([&] { data::load_image_folder(dir_.path(), o); }, {"val_labels.txt:1", "zebra"});
  const std::string missing = "nope.png a\n";
  test::write_bytes(dir_ / "val_labels.txt", std::vector<uint8_t>(missing.begin(), missing.end()));
  expect_error_containing([&] { data::load_image_folder(dir_.path(), o); }, {"nope.png", "does not exist"});
}

TEST_F(ImageFolderFiles, DecodedCacheReloadsAndIsInvalidatedBySourceChanges) {
  data::ImageFolderOptions o;
  o.cache_file = dir_ / "cache/train.bmcdc";
  data::ImageFolderStats stats;
  const data::Dataset first = data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_FALSE(stats.from_cache);
  const data::Dataset again = data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_TRUE(stats.from_cache);
  EXPECT_EQ(again.images.to_vector<uint8_t>(), first.images.to_vector<uint8_t>());
  EXPECT_EQ(again.labels.to_vector<int32_t>(), first.labels.to_vector<int32_t>());
  EXPECT_EQ(again.class_names, first.class_names);
  add("train/a/2.png", 99);  // a new file
  const data::Dataset grown = data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_FALSE(stats.from_cache);
  EXPECT_EQ(grown.size(), 6);
  // Rewriting a file in place with new content (different mtime) also invalidates.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  add("train/a/2.png", 98);
  data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_FALSE(stats.from_cache);
  // A truncated cache file is rebuilt, not trusted.
  const auto bytes = data::read_file_bytes(o.cache_file);
  test::write_bytes(o.cache_file, std::vector<uint8_t>(bytes.begin(), bytes.end() - 10));
  const data::Dataset rebuilt = data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_FALSE(stats.from_cache);
  EXPECT_EQ(rebuilt.size(), 6);
  // So is one whose label is out of range (the labels sit just before the pixels).
  auto corrupt = data::read_file_bytes(o.cache_file);
  const size_t label0 = corrupt.size() - rebuilt.images.nbytes() - rebuilt.labels.nbytes();
  corrupt[label0] = corrupt[label0 + 1] = corrupt[label0 + 2] = corrupt[label0 + 3] = 0x7F;
  test::write_bytes(o.cache_file, std::vector<uint8_t>(corrupt.begin(), corrupt.end()));
  const data::Dataset relabelled = data::load_image_folder(dir_.path(), o, &stats);
  EXPECT_FALSE(stats.from_cache);
  EXPECT_EQ(relabelled.labels.to_vector<int32_t>(), rebuilt.labels.to_vector<int32_t>());
}

TEST_F(ImageFolderFiles, StreamLoaderIsTheSameForAnyWorkerCountAndResumes) {
  const data::ImageList list = stream_list();
  data::StreamOptions o = stream_options();
  o.queue_depth = 2;
  std::vector<std::vector<float>> reference;
  Tensor x, y;
  {
    o.workers = 1;
    data::ImageStreamLoader one(list, o);
    EXPECT_EQ(one.steps_per_epoch(), 3);
    for (int step = 0; step < 7; ++step) {
      one.next(x, y);
      reference.push_back(x.to_vector<float>());
    }
    EXPECT_EQ(x.shape(), Shape({4, 3, 5, 5}));
  }
  o.workers = 3;
  data::ImageStreamLoader three(list, o, /*start_step=*/2);
  for (int step = 2; step < 7; ++step) {
    three.next(x, y);
    EXPECT_EQ(x.to_vector<float>(), reference[step]) << "step " << step;
  }
  three.batch_at(4, x, y);
  EXPECT_EQ(x.to_vector<float>(), reference[4]);
  EXPECT_NE(reference[0], reference[3]);  // epoch 1 reshuffles and re-draws
  o.train = false;
  o.resize_size = 6;
  data::ImageStreamLoader eval(list, o);
  eval.next(x, y);
  EXPECT_EQ(x.shape(), Shape({4, 3, 5, 5}));
}

// FolderLoader serves any step in any order: consecutive steps from the prefetching stream, others
// by restarting it, equal to the stream's own batches.
TEST_F(ImageFolderFiles, FolderLoaderServesAnyStepAsTheStreamDoes) {
  const data::ImageList list = stream_list();
  data::StreamOptions o = stream_options();
  o.workers = 2;
  const data::ImageStreamLoader stream(list, o);
  data::FolderLoader loader(list, o, Device::cpu());
  EXPECT_EQ(loader.steps_per_epoch(), 3);
  EXPECT_EQ(loader.size(), 11);
  Tensor x, y, ex, ey;
  for (const int64_t step : {0, 1, 2, 5, 1, 3}) {
    loader.batch(step, x, y);
    stream.batch_at(step, ex, ey);
    EXPECT_EQ(x.to_vector<float>(), ex.to_vector<float>()) << "step " << step;
    EXPECT_EQ(y.to_vector<int32_t>(), ey.to_vector<int32_t>()) << "step " << step;
  }
}

// The CUDA path uploads through pinned staging buffers without waiting: the batches on the device
// equal the CPU loader's, also when consecutive uploads reuse the two staging buffers.
TEST_F(ImageFolderFiles, FolderLoaderGpuUploadsEqualTheCpuBatches) {
  BMC_REQUIRE_CUDA_DEVICE();
  const data::ImageList list = stream_list();
  const data::StreamOptions o = stream_options();
  data::FolderLoader cpu(list, o, Device::cpu()), gpu(list, o, Device::cuda(0));
  Tensor x, y, gx, gy;
  for (int64_t step = 0; step < 5; ++step) {
    cpu.batch(step, x, y);
    gpu.batch(step, gx, gy);
    EXPECT_TRUE(test::bitwise_equal(gx.to(Device::cpu()), x)) << "step " << step;
    EXPECT_EQ(gy.to(Device::cpu()).to_vector<int32_t>(), y.to_vector<int32_t>()) << "step " << step;
  }
}

TEST_F(ImageFolderFiles, StreamLoaderReportsABadImage) {
  test::write_bytes(dir_ / "train/a/zz.png", {1, 2, 3});
  const data::ImageList list = data::list_image_folder(dir_.path(), {});
  data::StreamOptions o;
  o.batch_size = 6;
  o.crop_size = 4;
  o.workers = 2;
  data::ImageStreamLoader loader(list, o);
  Tensor x, y;
  expect_error_containing([&] { loader.next(x, y); }, {"zz.png", "--skip-bad-images"});
}

TEST(ImageTransforms, ResizeCropAndFlipGeometry) {
  data::Image img;
  img.width = 40;
  img.height = 20;
  img.channels = 3;
  img.pixels.assign(40 * 20 * 3, 200);
  const data::Image r = data::resize_shorter_side(img, 10);
  EXPECT_EQ(r.width, 20);
  EXPECT_EQ(r.height, 10);
  for (uint8_t v : r.pixels) ASSERT_EQ(v, 200);  // a flat image stays flat (weights sum to 1)
  const data::Image c = data::center_crop(r, 8);
  EXPECT_EQ(c.width, 8);
  EXPECT_EQ(c.height, 8);
  data::Image row;
  row.width = 3;
  row.height = 1;
  row.channels = 1;
  row.pixels = {1, 2, 3};
  data::flip_horizontal(row);
  EXPECT_EQ(row.pixels, (std::vector<uint8_t>{3, 2, 1}));
  EXPECT_THROW(data::center_crop(r, 11), Error);
}

TEST(ImageTransforms, RandomResizedCropWindowsLieInsideAndVary) {
  int flips = 0;
  std::set<std::pair<int, int>> sizes;
  for (uint64_t s = 0; s < 500; ++s) {
    const data::CropWindow w = data::random_resized_crop_window(500, 375, 1, 0, s);
    ASSERT_GT(w.w, 0);
    ASSERT_LE(w.x + w.w, 500);
    ASSERT_LE(w.y + w.h, 375);
    const double area = double(w.w) * w.h / (500.0 * 375.0);
    EXPECT_GE(area, 0.079);
    flips += w.flip;
    sizes.insert({w.w, w.h});
  }
  EXPECT_GT(sizes.size(), 400u);
  EXPECT_GT(flips, 200);
  EXPECT_LT(flips, 300);
  const data::CropWindow a = data::random_resized_crop_window(500, 375, 1, 3, 7);
  const data::CropWindow b = data::random_resized_crop_window(500, 375, 1, 3, 7);
  EXPECT_EQ(std::tie(a.x, a.y, a.w, a.h, a.flip), std::tie(b.x, b.y, b.w, b.h, b.flip));
}

}  // namespace
}  // namespace bmc
