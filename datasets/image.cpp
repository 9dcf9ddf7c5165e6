#include "datasets/image.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "datasets/jpeg_decode.h"
#include "kernels/philox.cuh"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  // bmc reads files itself, with its own error messages
#define STBI_NO_HDR
#define STBI_FAILURE_USERMSG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace bmc::data {
namespace {

constexpr uint32_t kResizedCropStream = 0x52524331u;  // "RRC1"

// Checks a JPEG's marker segments before stb sees them. Adobe CMYK/YCCK JPEGs (4-component
// frames) would decode to wrong colours; Huffman tables declaring more than 256 codes make this
// stb_image version write past its table (found by fuzz/fuzz_image.cpp). Markers are found the way
// stb finds them (fill bytes and stray bytes skipped; entropy-coded data scanned byte by byte,
// where 0xFF is always followed by 0x00 or a restart marker), including tables between the scans
// of progressive files. Returns "" or the reason for refusing.
std::string jpeg_precheck(const Bytes& b) {
  size_t i = 0;
  auto next_marker = [&](bool skip_stray) -> int {
    while (i < b.size()) {
      if (b[i] != 0xFF) {
        if (!skip_stray) return -1;
        ++i;
        continue;
      }
      while (i < b.size() && b[i] == 0xFF) ++i;
      return i < b.size() ? b[i++] : -1;
    }
    return -1;
  };
  if (next_marker(false) != 0xD8) return "";  // not a JPEG
  for (;;) {
    const int m = next_marker(true);
    if (m < 0 || m == 0xD9) return "";
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue;  // stuffed byte, TEM, RSTn, SOI
    if (i + 2 > b.size()) return "";
    const size_t len = (size_t(b[i]) << 8) | b[i + 1];
    const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof && i + 7 < b.size() && b[i + 7] == 4)
      return "CMYK/YCCK JPEG is not supported; convert it to RGB (e.g. `convert in.jpg -colorspace sRGB out.jpg`)";
    if (m == 0xC4) {
      // stb reads whole tables while any of the segment's length remains, even past its end.
      for (size_t t = i + 2; t < i + len && t < b.size();) {
        size_t codes = 0;
        for (size_t k = 1; k <= 16 && t + k < b.size(); ++k) codes += b[t + k];
        if (codes > 256) return "corrupt JPEG (a Huffman table declares " + std::to_string(codes) + " codes, at most 256)";
        t += 17 + codes;
      }
    }
    i += len >= 2 ? len : 2;
  }
}

// Checks a binary PNM (P5 / P6) header before stb parses it: stb reads width, height and maxval
// into an int without an overflow check, undefined behaviour on a number above 2^31 - 1 (found by
// fuzz/fuzz_image.cpp). Whitespace and '#' comments are skipped as stb skips them.
std::string pnm_precheck(const Bytes& b) {
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return "";
  size_t i = 2;
  for (int field = 0; field < 3; ++field) {
    while (i < b.size()) {
      if (b[i] == '#') {
        while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
      } else if (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
        ++i;
      } else {
        break;
      }
    }
    int64_t value = 0;
    for (; i < b.size() && b[i] >= '0' && b[i] <= '9'; ++i) {
      value = value * 10 + (b[i] - '0');
      if (value > INT32_MAX) return "corrupt PNM header (a size or maxval above 2^31 - 1)";
    }
  }
  return "";
}

}  // namespace

Image decode_image_rgb(const Bytes& bytes, const std::string& what, int max_side) {
  BMC_CHECK(!bytes.empty(), what, ": empty file, not an image");
  BMC_CHECK(bytes.size() < (size_t(1) << 31), what, ": file too large to decode (", bytes.size(), " bytes)");
  const std::string jpeg_problem = jpeg_precheck(bytes);
  BMC_CHECK(jpeg_problem.empty(), what, ": ", jpeg_problem);
  const std::string pnm_problem = pnm_precheck(bytes);
  BMC_CHECK(pnm_problem.empty(), what, ": ", pnm_problem);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decode_jpeg(bytes, what, max_side);
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, comp = 0;
  BMC_CHECK(stbi_info_from_memory(bytes.data(), len, &w, &h, &comp), what,
            ": not a readable image (", stbi_failure_reason(), ")");
  BMC_CHECK(!stbi_is_16_bit_from_memory(bytes.data(), len), what, ": 16-bit images are not supported");
  BMC_CHECK(w > 0 && h > 0 && w <= max_side && h <= max_side, what, ": image size ", w, "x", h, " outside 1..",
            max_side);
  stbi_uc* data = stbi_load_from_memory(bytes.data(), len, &w, &h, &comp, 3);
  BMC_CHECK(data != nullptr, what, ": corrupt image (", stbi_failure_reason(), ")");
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.assign(data, data + size_t(w) * h * 3);
  stbi_image_free(data);
  return img;
}

Image load_image_rgb(const std::string& path) { return decode_image_rgb(read_file_bytes(path), path); }

namespace {

// Weights of a 1-D triangle-filter resampling from n_in to n_out samples, PIL style: the filter
// support widens by the scale factor when shrinking, which antialiases. Weights in 1/2^14 units.
struct Taps {
  std::vector<int> first, count;
  std::vector<float> weights;  // count[i] weights starting at i * max_taps
  int max_taps = 0;
};

Taps make_taps(int n_in, int n_out) {
  const double scale = double(n_in) / n_out;
  const double support = std::max(1.0, scale);
  Taps t;
  t.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(n_out);
  t.count.resize(n_out);
  t.weights.assign(size_t(n_out) * t.max_taps, 0.0f);
  for (int o = 0; o < n_out; ++o) {
    const double center = (o + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(std::floor(center - support)));
    const int hi = std::min(n_in, static_cast<int>(std::ceil(center + support)));
    double total = 0;
    std::vector<double> w;
    for (int i = lo; i < hi; ++i) {
      const double d = std::fabs((i + 0.5 - center) / support);
      w.push_back(d < 1.0 ? 1.0 - d : 0.0);
      total += w.back();
    }
    t.first[o] = lo;
    t.count[o] = std::min<int>(static_cast<int>(w.size()), t.max_taps);
    for (int k = 0; k < t.count[o]; ++k) t.weights[size_t(o) * t.max_taps + k] = total > 0 ? float(w[k] / total) : 0.f;
  }
  return t;
}

uint8_t to_u8(float v) { return static_cast<uint8_t>(std::clamp(std::nearbyint(v), 0.0f, 255.0f)); }

}  // namespace

Image resize(const Image& src, int width, int height) {
  BMC_CHECK(width > 0 && height > 0, "resize: target size ", width, "x", height, " must be positive");
  if (width == src.width && height == src.height) return src;
  const int c = src.channels;
  // Horizontal pass into float rows, then vertical pass.
  const Taps tx = make_taps(src.width, width), ty = make_taps(src.height, height);
  std::vector<float> mid(size_t(src.height) * width * c);
  for (int y = 0; y < src.height; ++y)
    for (int x = 0; x < width; ++x)
      for (int ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (int k = 0; k < tx.count[x]; ++k)
          acc += tx.weights[size_t(x) * tx.max_taps + k] *
                 src.pixels[(size_t(y) * src.width + tx.first[x] + k) * c + ch];
        mid[(size_t(y) * width + x) * c + ch] = acc;
      }
  Image out;
  out.width = width;
  out.height = height;
  out.channels = c;
  out.pixels.resize(size_t(width) * height * c);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (int k = 0; k < ty.count[y]; ++k)
          acc += ty.weights[size_t(y) * ty.max_taps + k] * mid[(size_t(ty.first[y] + k) * width + x) * c + ch];
        out.pixels[(size_t(y) * width + x) * c + ch] = to_u8(acc);
      }
  return out;
}

Image resize_shorter_side(const Image& src, int shorter) {
  if (src.width <= src.height)
    return resize(src, shorter, std::max(1, static_cast<int>(int64_t(shorter) * src.height / src.width)));
  return resize(src, std::max(1, static_cast<int>(int64_t(shorter) * src.width / src.height)), shorter);
}

Image crop(const Image& src, int x, int y, int w, int h) {
  BMC_CHECK(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= src.width && y + h <= src.height, "crop: window ", w, "x",
            h, "+", x, "+", y, " outside the ", src.width, "x", src.height, " image");
  Image out;
  out.width = w;
  out.height = h;
  out.channels = src.channels;
  out.pixels.resize(size_t(w) * h * src.channels);
  const size_t row = size_t(w) * src.channels;
  for (int r = 0; r < h; ++r)
    std::copy_n(src.pixels.begin() + (size_t(y + r) * src.width + x) * src.channels, row,
                out.pixels.begin() + r * row);
  return out;
}

Image center_crop(const Image& src, int size) {
  BMC_CHECK(size <= src.width && size <= src.height, "center_crop: ", size, "x", size, " larger than the ",
            src.width, "x", src.height, " image");
  // torchvision rounds the offsets: int(round((H - size) / 2)).
  const int x = static_cast<int>(std::nearbyint((src.width - size) / 2.0));
  const int y = static_cast<int>(std::nearbyint((src.height - size) / 2.0));
  return crop(src, x, y, size, size);
}

void flip_horizontal(Image& img) {
  const int c = img.channels;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width / 2; ++x)
      for (int ch = 0; ch < c; ++ch)
        std::swap(img.pixels[(size_t(y) * img.width + x) * c + ch],
                  img.pixels[(size_t(y) * img.width + img.width - 1 - x) * c + ch]);
}

void to_chw(const Image& img, uint8_t* dst) {
  const size_t plane = size_t(img.width) * img.height;
  for (size_t p = 0; p < plane; ++p)
    for (int ch = 0; ch < img.channels; ++ch) dst[ch * plane + p] = img.pixels[p * img.channels + ch];
}

CropWindow random_resized_crop_window(int width, int height, uint64_t seed, uint64_t epoch, uint64_t sample) {
  // Draw k of this sample: Philox element (sample * 64 + k); 10 tries x 4 draws + the flip fit in 64.
  auto uniform = [&](int k) {
    return u32_to_unit_float(philox_u32(seed, sample * 64 + k, kResizedCropStream, static_cast<uint32_t>(epoch)));
  };
  auto draw_int = [&](int k, int n) {  // uniform in [0, n]
    return static_cast<int>(u32_to_range(philox_u32(seed, sample * 64 + k, kResizedCropStream,
                                                    static_cast<uint32_t>(epoch)),
                                         static_cast<uint32_t>(n + 1)));
  };
  const double area = double(width) * height;
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  CropWindow win;
  win.flip = uniform(63) < 0.5f;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (0.08 + (1.0 - 0.08) * uniform(4 * attempt));
    const double ratio = std::exp(log_lo + (log_hi - log_lo) * uniform(4 * attempt + 1));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(target * ratio)));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(target / ratio)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      win.w = w;
      win.h = h;
      win.y = draw_int(4 * attempt + 2, height - h);
      win.x = draw_int(4 * attempt + 3, width - w);
      return win;
    }
  }
  const double in_ratio = double(width) / height;
  if (in_ratio < 3.0 / 4.0) {
    win.w = width;
    win.h = static_cast<int>(std::nearbyint(width / (3.0 / 4.0)));
  } else if (in_ratio > 4.0 / 3.0) {
    win.h = height;
    win.w = static_cast<int>(std::nearbyint(height * (4.0 / 3.0)));
  } else {
    win.w = width;
    win.h = height;
  }
  win.h = std::min(win.h, height);
  win.w = std::min(win.w, width);
  win.x = (width - win.w) / 2;
  win.y = (height - win.h) / 2;
  return win;
}

}  // namespace bmc::data
