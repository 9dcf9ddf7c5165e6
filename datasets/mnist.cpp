#include "datasets/mnist.h"

#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace bmc::data {
namespace fs = std::filesystem;

std::string find_idx_file(const std::string& dir, const std::string& base) {
  // Some mirrors spell the files with a dot before "idx" (train-images.idx3-ubyte).
  std::string dotted = base;
  const size_t dash = dotted.rfind("-idx");
  if (dash != std::string::npos) dotted[dash] = '.';
  for (const std::string& name : {base, base + ".gz", dotted, dotted + ".gz"}) {
    const fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
  }
  BMC_FAIL(dir, ": no MNIST file ", base, " (looked for ", base, ", ", base, ".gz, ", dotted, ", ", dotted,
           ".gz); run `datasets/fetch mnist` or point at the folder holding the IDX files");
}

Dataset mnist_from_idx(const IdxArray& images, const IdxArray& labels, const std::string& images_what,
                       const std::string& labels_what) {
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  BMC_CHECK(labels.dims[0] == n, labels_what, ": ", labels.dims[0], " labels but ", images_what, " holds ", n,
            " images");
  BMC_CHECK(h > 0 && w > 0, images_what, ": image size ", h, "x", w, " is empty");
  Dataset d;
  d.num_classes = 10;
  for (int c = 0; c < 10; ++c) d.class_names.push_back(std::to_string(c));
  for (int64_t i = 0; i < n; ++i)
    BMC_CHECK(labels.values[i] < 10, labels_what, ": label ", int(labels.values[i]), " of sample ", i,
              " outside [0, 10)");
  d.images = Tensor({n, 1, h, w}, DType::U8);
  d.labels = Tensor({n}, DType::I32);
  if (n > 0) std::memcpy(d.images.raw(), images.values.data(), images.values.size());
  int32_t* y = d.labels.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) y[i] = labels.values[i];
  return d;
}

Dataset load_mnist(const std::string& dir, Split split) {
  BMC_CHECK(fs::is_directory(dir), dir, ": MNIST directory does not exist");
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  const IdxArray images = parse_idx_u8(read_maybe_gzip(images_path), 3, images_path);
  const IdxArray labels = parse_idx_u8(read_maybe_gzip(labels_path), 1, labels_path);
  Dataset d = mnist_from_idx(images, labels, images_path, labels_path);
  const std::string folder = fs::path(dir).lexically_normal().filename().string().empty()
                                 ? fs::path(dir).lexically_normal().parent_path().filename().string()
                                 : fs::path(dir).lexically_normal().filename().string();
  d.name = folder.find("fashion") != std::string::npos ? "fashion-mnist" : "mnist";
  return d;
}

}  // namespace bmc::data
