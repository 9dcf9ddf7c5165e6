#include "datasets/image_folder.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "core/log.h"
#include "datasets/image.h"
#include "datasets/image_cache.h"

namespace bmc::data {
namespace fs = std::filesystem;
namespace {

std::vector<fs::path> sorted_entries(const fs::path& dir, bool directories) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  BMC_CHECK(!ec, dir.string(), ": cannot list folder: ", ec.message());
  std::vector<fs::path> out;
  for (const auto& e : it) {
    std::error_code type_ec;
    const bool is_dir = e.is_directory(type_ec);
    if (directories ? is_dir : (!is_dir && has_image_extension(e.path().filename().string())))
      out.push_back(e.path());
  }
  // Byte-wise name order, as Python's sorted() on str orders ASCII names.
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().string() < b.filename().string();
  });
  return out;
}

std::vector<std::string> class_folder_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& p : sorted_entries(dir, true)) names.push_back(p.filename().string());
  return names;
}

ImageList list_flat(const fs::path& dir, const ImageFolderOptions& o, const std::string& root) {
  ImageList list;
  list.dir = dir.string();
  list.class_names = o.class_names;
  if (list.class_names.empty() && fs::is_directory(fs::path(root) / "train"))
    list.class_names = class_folder_names(fs::path(root) / "train");
  std::ifstream in(o.labels_file);
  BMC_CHECK(in, o.labels_file, ": cannot open labels file: ", std::strerror(errno));
  std::map<std::string, int32_t> class_index;
  for (size_t i = 0; i < list.class_names.size(); ++i) class_index[list.class_names[i]] = static_cast<int32_t>(i);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    std::istringstream fields(line);
    std::string file, cls;
    if (!(fields >> file)) continue;  // blank line
    BMC_CHECK(static_cast<bool>(fields >> cls), o.labels_file, ":", line_no, ": expected '<file> <class>', got '",
              line, "'");
    int32_t label = -1;
    if (auto it = class_index.find(cls); it != class_index.end()) {
      label = it->second;
    } else {
      char* end = nullptr;
      const long v = std::strtol(cls.c_str(), &end, 10);
      BMC_CHECK(*end == 0 && v >= 0 && (list.class_names.empty() || v < static_cast<long>(list.class_names.size())),
                o.labels_file, ":", line_no, ": unknown class '", cls, "' (", list.class_names.size(), " classes)");
      label = static_cast<int32_t>(v);
    }
    const fs::path path = dir / file;
    BMC_CHECK(fs::exists(path), o.labels_file, ":", line_no, ": image ", path.string(), " does not exist");
    list.entries.push_back({path.string(), label});
  }
  BMC_CHECK(!list.entries.empty(), o.labels_file, ": no images listed");
  if (list.class_names.empty()) {
    int32_t top = 0;
    for (const auto& e : list.entries) top = std::max(top, e.label);
    for (int32_t c = 0; c <= top; ++c) list.class_names.push_back(std::to_string(c));
  }
  return list;
}

// Decodes one entry to the dataset's fixed size (CHW into dst); returns "" or the error message.
std::string decode_entry(const ImageEntry& e, const ImageFolderOptions& o, int expect_w, int expect_h, uint8_t* dst) {
  try {
    Image img = load_image_rgb(e.path);
    if (o.transform == ImageTransform::ResizeCenterCrop)
      img = center_crop(resize_shorter_side(img, o.resize_size), o.crop_size);
    BMC_CHECK(img.width == expect_w && img.height == expect_h, e.path, ": image is ", img.width, "x", img.height,
              ", the folder's images are ", expect_w, "x", expect_h,
              " (use the resize + center-crop transform for mixed sizes)");
    to_chw(img, dst);
    return "";
  } catch (const Error& err) {
    return err.message();
  }
}

}  // namespace

bool has_image_extension(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "ppm" || ext == "pgm";
}

ImageList list_image_folder(const std::string& root, const ImageFolderOptions& o) {
  const fs::path dir = o.split.empty() ? fs::path(root) : fs::path(root) / o.split;
  BMC_CHECK(fs::is_directory(dir), dir.string(), ": image folder does not exist");
  if (!o.labels_file.empty()) return list_flat(dir, o, root);
  ImageList list;
  list.dir = dir.string();
  list.class_names = class_folder_names(dir);
  BMC_CHECK(!list.class_names.empty(), dir.string(),
            ": no class folders (expected <split>/<class>/<image>, or a labels file for a flat folder)");
  for (size_t c = 0; c < list.class_names.size(); ++c) {
    const fs::path class_dir = dir / list.class_names[c];
    const auto files = sorted_entries(class_dir, false);
    BMC_CHECK(!files.empty(), class_dir.string(), ": class folder holds no images (.jpg, .jpeg, .png, .bmp, .ppm, .pgm)");
    for (const auto& f : files) list.entries.push_back({f.string(), static_cast<int32_t>(c)});
  }
  return list;
}

Dataset load_image_folder(const std::string& root, const ImageFolderOptions& o, ImageFolderStats* stats) {
  BMC_CHECK(o.transform == ImageTransform::None || (o.crop_size > 0 && o.resize_size >= o.crop_size),
            "image folder: need 0 < crop_size <= resize_size, got crop ", o.crop_size, ", resize ", o.resize_size);
  ImageFolderStats local;
  ImageFolderStats& st = stats ? *stats : local;
  st = {};
  const ImageList list = list_image_folder(root, o);
  const uint64_t key = o.cache_file.empty() ? 0 : image_cache_key(list, o);
  if (!o.cache_file.empty()) {
    if (auto cached = read_image_cache(o.cache_file, key)) {
      st.from_cache = true;
      return std::move(*cached);
    }
  }
  // The output size: the crop, or the first decodable image's size.
  int w = o.crop_size, h = o.crop_size;
  size_t first_good = 0;
  if (o.transform == ImageTransform::None) {
    for (;; ++first_good) {
      BMC_CHECK(first_good < list.entries.size(), list.dir, ": no decodable image");
      try {
        const Image img = load_image_rgb(list.entries[first_good].path);
        w = img.width;
        h = img.height;
        break;
      } catch (const Error& err) {
        if (!o.skip_bad_images) throw;
      }
    }
  }
  const int64_t n = static_cast<int64_t>(list.entries.size());
  const int64_t per_image = int64_t(3) * h * w;
  std::vector<uint8_t> pixels(static_cast<size_t>(n * per_image));
  std::vector<std::string> errors(static_cast<size_t>(n));
  const int threads = o.workers > 0 ? o.workers : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) errors[i] = decode_entry(list.entries[i], o, w, h, pixels.data() + i * per_image);

  std::vector<int32_t> labels;
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      BMC_CHECK(o.skip_bad_images, errors[i], " (pass --skip-bad-images to skip bad images with a warning)");
      log_warning("skipping bad image: " + errors[i]);
      ++st.skipped;
      continue;
    }
    if (kept != i) std::memmove(pixels.data() + kept * per_image, pixels.data() + i * per_image, size_t(per_image));
    labels.push_back(list.entries[i].label);
    ++kept;
  }
  if (st.skipped > 0) log_warning(list.dir + ": skipped " + std::to_string(st.skipped) + " bad image(s) of " + std::to_string(n));
  BMC_CHECK(kept > 0, list.dir, ": no image could be decoded");
  Dataset d;
  d.name = o.name;
  d.class_names = list.class_names;
  d.num_classes = static_cast<int>(list.class_names.size());
  d.images = Tensor({kept, 3, h, w}, DType::U8);
  d.labels = Tensor::from_vector<int32_t>(labels, {kept});
  std::memcpy(d.images.raw(), pixels.data(), static_cast<size_t>(kept * per_image));
  validate_dataset(d, list.dir);
  if (!o.cache_file.empty()) write_image_cache(o.cache_file, key, d);
  return d;
}

}  // namespace bmc::data
