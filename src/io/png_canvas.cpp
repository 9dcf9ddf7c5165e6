#include "io/png_canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"

#define STB_TRUETYPE_IMPLEMENTATION
#define STBTT_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>
#pragma GCC diagnostic pop

namespace bmc::io {
namespace {

constexpr uint32_t kTextColor = 0x222222;

double channel(uint32_t rgb, int shift) { return ((rgb >> shift) & 0xffu) / 255.0; }

// Distance from (x, y) to the segment (x0, y0)-(x1, y1).
double segment_distance(double x, double y, double x0, double y0, double x1, double y1) {
  const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  const double t = len2 > 0 ? std::clamp(((x - x0) * dx + (y - y0) * dy) / len2, 0.0, 1.0) : 0.0;
  return std::hypot(x - (x0 + t * dx), y - (y0 + t * dy));
}

}  // namespace

std::string find_plot_font() {
  if (const char* env = std::getenv("BMC_PLOT_FONT"); env != nullptr && *env != '\0') return env;
  for (const char* path : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                           "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                           "/usr/share/fonts/TTF/DejaVuSans.ttf"})
    if (std::filesystem::exists(path)) return path;
  return "";
}

PngCanvas::PngCanvas(const std::string& font_path)
    : width_(static_cast<int>(kPlotWidth) * kScale),
      height_(static_cast<int>(kPlotHeight) * kScale),
      rgb_(static_cast<size_t>(width_) * height_ * 3, 1.0f) {
  std::ifstream in(font_path, std::ios::binary);
  BMC_CHECK(in.good(), "plot font ", font_path, ": cannot open");
  font_data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  BMC_CHECK(!font_data_.empty(), "plot font ", font_path, ": empty file");
  font_ = std::make_unique<stbtt_fontinfo>();
  const auto* bytes = reinterpret_cast<const unsigned char*>(font_data_.data());
  const int offset = stbtt_GetFontOffsetForIndex(bytes, 0);
  BMC_CHECK(offset >= 0 && stbtt_InitFont(font_.get(), bytes, offset) != 0, "plot font ", font_path,
            ": not a TrueType font");
}

PngCanvas::~PngCanvas() = default;

void PngCanvas::blend(int px, int py, uint32_t rgb, double alpha) {
  if (px < 0 || py < 0 || px >= width_ || py >= height_ || alpha <= 0) return;
  alpha = std::min(alpha, 1.0);
  float* p = &rgb_[(static_cast<size_t>(py) * width_ + px) * 3];
  for (int k = 0; k < 3; ++k)
    p[k] = static_cast<float>(p[k] * (1 - alpha) + channel(rgb, 16 - 8 * k) * alpha);
}

void PngCanvas::line(double x0, double y0, double x1, double y1, uint32_t rgb, double width) {
  x0 *= kScale, y0 *= kScale, x1 *= kScale, y1 *= kScale;
  const double half = width * kScale / 2;
  const int lo_x = static_cast<int>(std::floor(std::min(x0, x1) - half - 1));
  const int hi_x = static_cast<int>(std::ceil(std::max(x0, x1) + half + 1));
  const int lo_y = static_cast<int>(std::floor(std::min(y0, y1) - half - 1));
  const int hi_y = static_cast<int>(std::ceil(std::max(y0, y1) + half + 1));
  for (int y = std::max(lo_y, 0); y <= std::min(hi_y, height_ - 1); ++y)
    for (int x = std::max(lo_x, 0); x <= std::min(hi_x, width_ - 1); ++x)
      blend(x, y, rgb, half + 0.5 - segment_distance(x + 0.5, y + 0.5, x0, y0, x1, y1));
}

void PngCanvas::dot(double x, double y, double radius, uint32_t rgb) {
  x *= kScale, y *= kScale, radius *= kScale;
  for (int py = static_cast<int>(y - radius - 1); py <= static_cast<int>(y + radius + 1); ++py)
    for (int px = static_cast<int>(x - radius - 1); px <= static_cast<int>(x + radius + 1); ++px)
      blend(px, py, rgb, radius + 0.5 - std::hypot(px + 0.5 - x, py + 0.5 - y));
}

void PngCanvas::text(double x, double y, const std::string& s, double size, TextAnchor anchor, bool vertical) {
  const stbtt_fontinfo& font = *font_;
  const float scale = stbtt_ScaleForMappingEmToPixels(&font, static_cast<float>(size * kScale));
  // Pen positions along the baseline, then the anchor shift.
  std::vector<float> pen(s.size() + 1, 0.0f);
  for (size_t i = 0; i < s.size(); ++i) {
    int advance = 0, bearing = 0;
    stbtt_GetCodepointHMetrics(&font, static_cast<unsigned char>(s[i]), &advance, &bearing);
    const int kern = i + 1 < s.size() ? stbtt_GetCodepointKernAdvance(&font, static_cast<unsigned char>(s[i]),
                                                                      static_cast<unsigned char>(s[i + 1]))
                                      : 0;
    pen[i + 1] = pen[i] + scale * static_cast<float>(advance + kern);
  }
  const double shift = anchor == TextAnchor::Start ? 0 : anchor == TextAnchor::Middle ? pen.back() / 2 : pen.back();
  const double ox = x * kScale, oy = y * kScale;
  for (size_t i = 0; i < s.size(); ++i) {
    const int c = static_cast<unsigned char>(s[i]);
    const float start = static_cast<float>(pen[i] - shift);
    const float sub = start - std::floor(start);
    int x0, y0, x1, y1;
    stbtt_GetCodepointBitmapBoxSubpixel(&font, c, scale, scale, sub, 0, &x0, &y0, &x1, &y1);
    const int w = x1 - x0, h = y1 - y0;
    if (w <= 0 || h <= 0) continue;
    std::vector<unsigned char> glyph(static_cast<size_t>(w) * h);
    stbtt_MakeCodepointBitmapSubpixel(&font, glyph.data(), w, h, w, scale, scale, sub, 0, c);
    for (int v = 0; v < h; ++v)
      for (int u = 0; u < w; ++u) {
        const double along = std::floor(start) + x0 + u, down = y0 + v;  // from the anchor, on the baseline
        const double cx = vertical ? ox + down : ox + along, cy = vertical ? oy - along : oy + down;
        blend(static_cast<int>(std::lround(cx)), static_cast<int>(std::lround(cy)), kTextColor,
              glyph[static_cast<size_t>(v) * w + u] / 255.0);
      }
  }
}

std::string PngCanvas::encode() const {
  const int w = width_ / kScale, h = height_ / kScale;
  std::vector<unsigned char> pixels(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) {
        double sum = 0;
        for (int dy = 0; dy < kScale; ++dy)
          for (int dx = 0; dx < kScale; ++dx)
            sum += rgb_[((static_cast<size_t>(y) * kScale + dy) * width_ + x * kScale + dx) * 3 + k];
        pixels[(static_cast<size_t>(y) * w + x) * 3 + k] =
            static_cast<unsigned char>(std::lround(255.0 * sum / (kScale * kScale)));
      }
  std::string out;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  BMC_CHECK(stbi_write_png_to_func(append, &out, w, h, 3, pixels.data(), w * 3) != 0, "PNG encoding failed");
  return out;
}

}  // namespace bmc::io
