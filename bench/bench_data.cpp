// Data pipeline benchmarks on the real data under ../shared/datasets (skipped with a message when
// absent): MNIST load (gunzip + IDX parse), one CIFAR-sized epoch of augmented CPU batches, and
// JPEG decode + resize + crop throughput on the CIFAR-10 JPEGs.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "datasets/data_loader.h"
#include "datasets/image.h"
#include "datasets/image_folder.h"
#include "datasets/mnist.h"

namespace {
namespace fs = std::filesystem;

std::string shared_dataset(const std::string& rel) {
  const fs::path p = fs::path("..") / "shared" / "datasets" / rel;
  return fs::exists(p) ? p.string() : "";
}

void BM_mnist_load(benchmark::State& state) {
  const std::string dir = shared_dataset("mnist");
  if (dir.empty()) return state.SkipWithError("../shared/datasets/mnist not present (run from the repo root)");
  for (auto _ : state) {
    bmc::data::Dataset d = bmc::data::load_mnist(dir, bmc::data::Split::Train);
    benchmark::DoNotOptimize(d.images.raw());
  }
  state.SetItemsProcessed(state.iterations() * 60000);
}
BENCHMARK(BM_mnist_load)->Name("BM_mnist_load/cpu/train60000")->Unit(benchmark::kMillisecond)->UseRealTime();

// 50000 synthetic 3x32x32 images, batch 128, crop+flip+normalise: one full epoch per iteration.
void BM_cifar_epoch_augmented(benchmark::State& state) {
  bmc::data::Dataset d;
  d.name = "cifar10";
  d.num_classes = 10;
  d.images = bmc::Tensor({50000, 3, 32, 32}, bmc::DType::U8);
  d.labels = bmc::Tensor::zeros({50000}, bmc::DType::I32);
  uint8_t* px = d.images.data<uint8_t>();
  for (int64_t i = 0; i < d.images.numel(); ++i) px[i] = static_cast<uint8_t>(i * 131 % 251);
  bmc::data::LoaderOptions o;
  o.augment = bmc::data::Augment::CropFlip;
  o.norm = bmc::data::standard_normalization("cifar10");
  const bmc::data::DataLoader loader(d, bmc::Device::cpu(), o);
  bmc::Tensor x, y;
  int64_t epoch = 0;
  for (auto _ : state) {
    for (int64_t s = 0; s < loader.steps_per_epoch(); ++s) loader.batch(epoch * loader.steps_per_epoch() + s, x, y);
    ++epoch;
  }
  state.SetItemsProcessed(state.iterations() * 50000);
}
BENCHMARK(BM_cifar_epoch_augmented)->Name("BM_cifar_epoch_augmented/cpu/b128")->Unit(benchmark::kMillisecond)->UseRealTime();

// Decode + resize shorter side to 36 + center crop 32, one thread: images/s per core.
void BM_jpeg_decode_resize_crop(benchmark::State& state) {
  const std::string tarball = shared_dataset("cifar10-jpeg/train.tar.gz");
  if (tarball.empty()) return state.SkipWithError("../shared/datasets/cifar10-jpeg not present");
  const fs::path dir = fs::temp_directory_path() / "bmc-bench-cifar10-jpeg";
  if (!fs::exists(dir / "train")) {
    fs::create_directories(dir);
    const std::string cmd = "tar -xzf '" + tarball + "' -C '" + dir.string() + "' train/cat";
    if (std::system(cmd.c_str()) != 0) return state.SkipWithError("cannot extract train/cat");
  }
  std::vector<bmc::data::Bytes> files;
  for (const auto& e : fs::directory_iterator(dir / "train" / "cat"))
    if (files.size() < 1000) files.push_back(bmc::data::read_file_bytes(e.path().string()));
  size_t i = 0;
  for (auto _ : state) {
    const bmc::data::Image img = bmc::data::decode_image_rgb(files[i++ % files.size()], "bench");
    const bmc::data::Image out = bmc::data::center_crop(bmc::data::resize_shorter_side(img, 36), 32);
    benchmark::DoNotOptimize(out.pixels.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_jpeg_decode_resize_crop)->Name("BM_jpeg_decode_resize_crop/cpu/32x32")->UseRealTime();

// The ImageNet eval transform's geometry on a typical 500x375 photo (synthetic pixels; no
// ImageNet JPEGs here): resize shorter side to 256 + center crop 224.
void BM_resize_crop_imagenet(benchmark::State& state) {
  bmc::data::Image src;
  src.width = 500;
  src.height = 375;
  src.channels = 3;
  src.pixels.resize(500 * 375 * 3);
  for (size_t k = 0; k < src.pixels.size(); ++k) src.pixels[k] = static_cast<uint8_t>(k * 7 % 253);
  for (auto _ : state) {
    const bmc::data::Image out = bmc::data::center_crop(bmc::data::resize_shorter_side(src, 256), 224);
    benchmark::DoNotOptimize(out.pixels.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_resize_crop_imagenet)->Name("BM_resize_crop/cpu/500x375_to_224")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
