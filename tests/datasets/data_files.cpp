#include "tests/datasets/data_files.h"

#include <zlib.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_WINDOWS_UTF8
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "tests/support/fixtures.h"

namespace bmc::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string templ = (fs::temp_directory_path() / "bmc-test-XXXXXX").string();
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Restore permissions a test may have removed so the folder can be deleted.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& raw) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::vector<uint8_t> out(deflateBound(&zs, raw.size()));
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  std::vector<uint8_t> out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

std::vector<uint8_t> png_bytes(int width, int height, int channels, const std::vector<uint8_t>& pixels) {
  int len = 0;
  unsigned char* png = stbi_write_png_to_mem(pixels.data(), width * channels, width, height, channels, &len);
  if (!png) throw std::runtime_error("stbi_write_png_to_mem failed");
  std::vector<uint8_t> out(png, png + len);
  STBIW_FREE(png);
  return out;
}

std::vector<uint8_t> pattern_pixels(int width, int height, int channels, int seed) {
  std::vector<uint8_t> px(static_cast<size_t>(width) * height * channels);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37 + static_cast<size_t>(seed) * 101) % 251);
  return px;
}

std::string real_mnist_dir() {
  const std::string dir = source_path("../shared/datasets/mnist");
  return fs::exists(dir + "/train-images-idx3-ubyte.gz") ? dir : "";
}

std::string real_cifar10_jpeg_root() {
  const fs::path tarball = source_path("../shared/datasets/cifar10-jpeg/train.tar.gz");
  if (!fs::exists(tarball)) return "";
  const auto stamp = std::to_string(fs::file_size(tarball)) + "-" +
                     std::to_string(fs::last_write_time(tarball).time_since_epoch().count());
  const fs::path root = fs::temp_directory_path() / ("bmc-cifar10-jpeg-" + stamp);
  if (fs::exists(root / "complete")) return root.string();
  // Extract into a private folder, then rename into place: concurrent test runs never see half a tree.
  const fs::path partial = root.string() + ".partial-" + std::to_string(::getpid());
  fs::create_directories(partial);
  const std::string cmd = "tar -xzf '" + tarball.string() + "' -C '" + partial.string() + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  std::ofstream(partial / "complete") << "ok\n";
  std::error_code ec;
  fs::rename(partial, root, ec);
  if (ec) fs::remove_all(partial, ec);  // another run won the race
  return root.string();
}

void write_synthetic_mnist(const std::string& dir, int train, int test) {
  fs::create_directories(dir);
  auto split = [&](const std::string& prefix, int n, int seed) {
    std::vector<uint8_t> pixels(static_cast<size_t>(n) * 28 * 28), labels(n);
    uint32_t state = 12345u + seed;
    for (int i = 0; i < n; ++i) {
      labels[i] = static_cast<uint8_t>(i % 10);
      for (int p = 0; p < 28 * 28; ++p) {
        state = state * 1664525u + 1013904223u;
        const bool bar = (p / 28) / 3 == labels[i];
        pixels[static_cast<size_t>(i) * 784 + p] = static_cast<uint8_t>((bar ? 160 : 0) + (state >> 26));
      }
    }
    write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", idx_bytes({static_cast<uint32_t>(n), 28, 28}, pixels));
    write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", idx_bytes({static_cast<uint32_t>(n)}, labels));
  };
  split("train", train, 1);
  split("t10k", test, 2);
}

void write_synthetic_cifar10(const std::string& dir, int per_batch) {
  fs::create_directories(dir);
  uint32_t state = 777;
  auto batch = [&](const std::string& name) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < per_batch; ++i) {
      const uint8_t label = static_cast<uint8_t>(i % 10);
      bytes.push_back(label);
      for (int p = 0; p < 3072; ++p) {
        state = state * 1664525u + 1013904223u;
        bytes.push_back(static_cast<uint8_t>((state >> 25) + label * 12));
      }
    }
    write_bytes(dir + "/" + name, bytes);
  };
  for (int b = 1; b <= 5; ++b) batch("data_batch_" + std::to_string(b) + ".bin");
  batch("test_batch.bin");
}

}  // namespace bmc::test
