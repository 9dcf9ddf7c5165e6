#include "datasets/image_cache.h"

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "datasets/byte_source.h"
#include "io/atomic_file.h"

namespace bmc::data {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'B', 'M', 'C', 'D', 'C', 'A', 'C', '1'};

struct Fnv1a {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(const std::string& s) {
    add(s.data(), s.size());
    add("\0", 1);
  }
  void add_int(int64_t v) { add(&v, sizeof v); }
};

struct Reader {
  const Bytes& b;
  size_t pos = 0;
  bool ok = true;
  bool take(void* dst, size_t n) {
    if (!ok || b.size() - pos < n) return ok = false;
    std::memcpy(dst, b.data() + pos, n);
    pos += n;
    return true;
  }
  int64_t i64() {
    int64_t v = 0;
    take(&v, sizeof v);
    return v;
  }
  std::string str() {
    const int64_t n = i64();
    if (!ok || n < 0 || static_cast<size_t>(n) > b.size() - pos) {
      ok = false;
      return "";
    }
    std::string s(reinterpret_cast<const char*>(b.data() + pos), static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
    return s;
  }
};

void put_i64(std::string& out, int64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& out, const std::string& s) {
  put_i64(out, static_cast<int64_t>(s.size()));
  out += s;
}

}  // namespace

// The decoder that produced the cached pixels: a new one (JPEGs moved from stb_image to
// libjpeg-turbo) must not reuse pixels decoded by the old one.
constexpr int64_t kDecoderVersion = 2;

uint64_t image_cache_key(const ImageList& list, const ImageFolderOptions& o) {
  Fnv1a h;
  h.add_int(kDecoderVersion);
  h.add_int(static_cast<int64_t>(o.transform));
  h.add_int(o.transform == ImageTransform::None ? 0 : o.resize_size);
  h.add_int(o.transform == ImageTransform::None ? 0 : o.crop_size);
  h.add_int(o.skip_bad_images);
  h.add(o.name);
  for (const auto& c : list.class_names) h.add(c);
  for (const auto& e : list.entries) {
    std::error_code ec;
    const auto size = fs::file_size(e.path, ec);
    const auto mtime = fs::last_write_time(e.path, ec).time_since_epoch().count();
    h.add(e.path);
    h.add_int(e.label);
    h.add_int(static_cast<int64_t>(size));
    h.add_int(static_cast<int64_t>(mtime));
  }
  return h.h;
}

std::optional<Dataset> read_image_cache(const std::string& path, uint64_t key) {
  if (!fs::exists(path)) return std::nullopt;
  const Bytes bytes = read_file_bytes(path);
  Reader r{bytes};
  char magic[8] = {};
  r.take(magic, sizeof magic);
  if (!r.ok || std::memcmp(magic, kMagic, sizeof magic) != 0) {
    log_info(path + ": not a bmc image cache; rebuilding it");
    return std::nullopt;
  }
  uint64_t stored_key = 0;
  r.take(&stored_key, sizeof stored_key);
  if (stored_key != key) return std::nullopt;  // the source or the options changed
  Dataset d;
  d.name = r.str();
  const int64_t n = r.i64(), c = r.i64(), h = r.i64(), w = r.i64(), classes = r.i64();
  if (!r.ok || n < 0 || c <= 0 || h <= 0 || w <= 0 || classes <= 0 || classes > (1 << 20) ||
      n * c * h * w + n * 4 > static_cast<int64_t>(bytes.size()))
    return std::nullopt;
  d.num_classes = static_cast<int>(classes);
  for (int64_t i = 0; i < classes && r.ok; ++i) d.class_names.push_back(r.str());
  d.labels = Tensor({n}, DType::I32);
  d.images = Tensor({n, c, h, w}, DType::U8);
  r.take(d.labels.raw(), d.labels.nbytes());
  r.take(d.images.raw(), d.images.nbytes());
  if (!r.ok || r.pos != bytes.size()) {
    log_info(path + ": truncated image cache; rebuilding it");
    return std::nullopt;
  }
  try {
    validate_dataset(d, path);
  } catch (const Error& e) {
    log_info(path + ": corrupt image cache (" + e.message() + "); rebuilding it");
    return std::nullopt;
  }
  return d;
}

void write_image_cache(const std::string& path, uint64_t key, const Dataset& d) {
  std::string header(kMagic, sizeof kMagic);
  header.append(reinterpret_cast<const char*>(&key), sizeof key);
  put_str(header, d.name);
  for (int64_t v : {d.size(), d.channels(), d.height(), d.width(), int64_t(d.num_classes)}) put_i64(header, v);
  for (const auto& c : d.class_names) put_str(header, c);
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  io::AtomicFileWriter out(path);
  out.write(header);
  out.write(d.labels.raw(), d.labels.nbytes());
  out.write(d.images.raw(), d.images.nbytes());
  out.commit();
}

}  // namespace bmc::data
