// Plots: the SVG carries the labels and one path per series; the PNG decodes, has the plot's size,
// and shows the series colours where the layout puts the points, error bars, and dark text pixels.
#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/image.h"
#include "io/plot.h"
#include "core/error.h"
#include "io/png_canvas.h"

namespace bmc {
namespace {

const std::vector<io::PlotSeries> kSeries = {
    {"tickets", {{100, 90, 0}, {10, 85, 2}, {1, 60, 0}}},
    {"random <reinit>", {{100, 90, 0}, {10, 70, 0}}},
};
const io::PlotOptions kOptions{"accuracy vs density", "remaining weights (%)", "top-1 (%)", true, true};

TEST(Plot, SvgHasTitleAxesLegendAndEscapedLabels) {
  const std::string svg = io::render_svg_plot(kSeries, kOptions);
  EXPECT_NE(svg.find("accuracy vs density"), std::string::npos);
  EXPECT_NE(svg.find("remaining weights (%)"), std::string::npos);
  EXPECT_NE(svg.find("rotate(-90"), std::string::npos) << "the y label is vertical";
  EXPECT_NE(svg.find("random &lt;reinit&gt;"), std::string::npos);
  EXPECT_NE(svg.find("#1f77b4"), std::string::npos);
  EXPECT_NE(svg.find("#d62728"), std::string::npos);
}

TEST(Plot, PngShowsTheSeriesErrorBarsAndText) {
  const std::string font = io::find_plot_font();
  if (font.empty()) GTEST_SKIP() << "no TrueType font (fonts-dejavu-core)";
  const std::string dir = testing::TempDir() + "/bmc_plot";
  std::filesystem::create_directories(dir);
  const std::string png = io::write_plot_files(dir + "/p.svg", kSeries, kOptions);
  ASSERT_EQ(png, dir + "/p.png");
  ASSERT_TRUE(std::filesystem::exists(dir + "/p.svg"));
  const data::Image img = data::load_image_rgb(png);
  ASSERT_EQ(img.width, 720);
  ASSERT_EQ(img.height, 460);
  auto near_color = [&](int cx, int cy, int r, uint8_t red, uint8_t green, uint8_t blue, int tolerance = 40) {
    for (int y = cy - r; y <= cy + r; ++y)
      for (int x = cx - r; x <= cx + r; ++x) {
        const uint8_t* p = &img.pixels[(static_cast<size_t>(y) * img.width + x) * 3];
        if (std::abs(p[0] - red) < tolerance && std::abs(p[1] - green) < tolerance && std::abs(p[2] - blue) < tolerance)
          return true;
      }
    return false;
  };
  // Layout (io/plot.cpp): plot area x 70..530, y 40..400; x reversed log10 over [0, 2], y over
  // [60, 90] widened by the error bar (83..87) and 8% padding: [57.6, 92.4].
  const auto px = [](double log_x) { return static_cast<int>(70 + (1 - log_x / 2) * 460); };
  const auto py = [](double y) { return static_cast<int>(40 + (1 - (y - 57.6) / 34.8) * 360); };
  EXPECT_TRUE(near_color(px(0), py(60), 2, 0x1f, 0x77, 0xb4)) << "the blue point at 1%";
  EXPECT_TRUE(near_color(px(1), py(70), 2, 0xd6, 0x27, 0x28)) << "the red point at 10%";
  // The bar is thinner than the series line: anti-aliasing lightens it.
  EXPECT_TRUE(near_color(px(1), py(87), 1, 0x1f, 0x77, 0xb4, 90)) << "the top of the error bar";
  EXPECT_FALSE(near_color(px(1), py(89), 1, 0x1f, 0x77, 0xb4, 90)) << "nothing above the error bar";
  EXPECT_TRUE(near_color(360, 16, 8, 0x22, 0x22, 0x22)) << "the title's text";
  EXPECT_TRUE(near_color(600 - 25, 50, 6, 0x22, 0x22, 0x22)) << "the legend's text";
}

TEST(Plot, PngCanvasRefusesAFileThatIsNotAFont) {
  const std::string path = testing::TempDir() + "/bmc_not_a_font.ttf";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("hello", f);
  std::fclose(f);
  EXPECT_THROW(io::PngCanvas canvas(path), Error);
  EXPECT_THROW(io::PngCanvas canvas(path + ".missing"), Error);
}

}  // namespace
}  // namespace bmc
