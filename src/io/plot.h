// Line plots for `bmc report` and `bmc qlth`: series of (x, y) points with markers and optional
// error bars (y +/- err), a legend, a linear or log-10 x axis and labelled ticks. draw_plot() lays
// the picture out once on a PlotCanvas; an SVG writer and a PNG rasterizer (io/png_canvas.h)
// implement the canvas, so both files show the same plot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bmc::io {

struct PlotPoint {
  double x = 0, y = 0;
  double err = 0;  // half-length of the error bar (a standard deviation over replicates); 0: none
};

struct PlotSeries {
  std::string label;
  std::vector<PlotPoint> points;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false;
  bool reverse_x = false;  // largest x on the left (density falls left to right)
};

constexpr double kPlotWidth = 720, kPlotHeight = 460;

enum class TextAnchor { Start, Middle, End };

// Coordinates in pixels of a kPlotWidth x kPlotHeight picture, origin top left; colours 0xRRGGBB.
class PlotCanvas {
 public:
  virtual ~PlotCanvas() = default;
  virtual void line(double x0, double y0, double x1, double y1, uint32_t rgb, double width) = 0;
  virtual void dot(double x, double y, double radius, uint32_t rgb) = 0;
  // Text with its baseline at y; `vertical`: rotated a quarter turn counter-clockwise about (x, y).
  virtual void text(double x, double y, const std::string& s, double size, TextAnchor anchor, bool vertical) = 0;
};

void draw_plot(const std::vector<PlotSeries>& series, const PlotOptions& options, PlotCanvas& canvas);

std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& options);

// Writes the plot as SVG at `svg_path` and as PNG beside it (the same name ending in .png).
// Returns the PNG's path, or "" with a warning on stderr when no font for the PNG's text was found
// (the SVG is always written).
std::string write_plot_files(const std::string& svg_path, const std::vector<PlotSeries>& series,
                             const PlotOptions& options);

}  // namespace bmc::io
