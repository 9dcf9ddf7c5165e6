// The ImageNet evaluation input pipeline on ImageNet-sized JPEGs: 128 synthetic 500x375 photos
// (smooth gradients plus noise, JPEG quality 90, written once into a temp folder) streamed through
// data::FolderLoader with the eval transform (decode, resize shorter side to 256, center crop
// 224, normalise) at 1 and 2 decode workers. Items are images.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_WINDOWS_UTF8
#include <stb/stb_image_write.h>

#include "datasets/folder_loader.h"

namespace {
namespace fs = std::filesystem;

constexpr int kImages = 128, kWidth = 500, kHeight = 375;

// The folder, written on first use and removed at exit.
struct PhotoFolder {
  std::string path;
  ~PhotoFolder() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

const std::string& photo_folder() {
  static const PhotoFolder root{[] {
    const fs::path dir = fs::temp_directory_path() / ("bmc_bench_jpegs_" + std::to_string(::getpid()));
    fs::create_directories(dir / "val" / "n00000000");
    std::vector<uint8_t> px(size_t(kWidth) * kHeight * 3);
    uint32_t noise = 12345;
    for (int i = 0; i < kImages; ++i) {
      for (int y = 0; y < kHeight; ++y)
        for (int x = 0; x < kWidth; ++x)
          for (int c = 0; c < 3; ++c) {
            noise = noise * 1664525u + 1013904223u;
            const int v = (x * (c + 1) + y * (3 - c) + 17 * i) / 4 % 256 + static_cast<int>(noise >> 28) - 8;
            px[(size_t(y) * kWidth + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
          }
      const std::string file = (dir / "val" / "n00000000" / ("img" + std::to_string(i) + ".JPEG")).string();
      stbi_write_jpg(file.c_str(), kWidth, kHeight, 3, px.data(), 90);
    }
    return dir.string();
  }()};
  return root.path;
}

void BM_imagenet_eval_stream(benchmark::State& state) {
  bmc::data::ImageFolderOptions folder;
  folder.split = "val";
  const bmc::data::ImageList list = bmc::data::list_image_folder(photo_folder(), folder);
  bmc::data::StreamOptions o;
  o.batch_size = 32;
  o.train = false;
  o.shuffle = false;
  o.workers = static_cast<int>(state.range(0));
  o.norm = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
  bmc::Tensor x, y;
  for (auto _ : state) {
    bmc::data::FolderLoader loader(list, o, bmc::Device::cpu());
    for (int64_t step = 0; step < loader.steps_per_epoch(); ++step) loader.batch(step, x, y);
    benchmark::DoNotOptimize(x.raw());
  }
  state.SetItemsProcessed(state.iterations() * kImages);
}
BENCHMARK(BM_imagenet_eval_stream)->Name("BM_imagenet_eval_stream/cpu/500x375_jpeg")->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
