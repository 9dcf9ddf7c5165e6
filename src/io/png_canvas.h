// The PNG side of io/plot.h: a raster canvas drawn at twice the resolution and averaged down (anti-
// aliased lines, dots and text), text from a TrueType font through stb_truetype, the file through
// stb_image_write (Debian's libstb-dev).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/plot.h"

struct stbtt_fontinfo;

namespace bmc::io {

// The font for plot text: $BMC_PLOT_FONT, else the first of the usual Debian TrueType sans fonts
// that exists (fonts-dejavu-core); "" when there is none.
std::string find_plot_font();

class PngCanvas : public PlotCanvas {
 public:
  explicit PngCanvas(const std::string& font_path);  // throws if the font does not load
  ~PngCanvas() override;
  PngCanvas(const PngCanvas&) = delete;
  PngCanvas& operator=(const PngCanvas&) = delete;
  void line(double x0, double y0, double x1, double y1, uint32_t rgb, double width) override;
  void dot(double x, double y, double radius, uint32_t rgb) override;
  void text(double x, double y, const std::string& s, double size, TextAnchor anchor, bool vertical) override;
  // The picture at kPlotWidth x kPlotHeight as PNG file bytes.
  std::string encode() const;

 private:
  void blend(int px, int py, uint32_t rgb, double alpha);

  static constexpr int kScale = 2;  // supersampling factor
  int width_, height_;              // of the supersampled raster
  std::vector<float> rgb_;          // width_ x height_ x 3, in [0, 1]
  std::string font_data_;
  std::unique_ptr<stbtt_fontinfo> font_;  // reads font_data_
};

}  // namespace bmc::io
