// A small SVG line-plot writer (no dependency): series of (x, y) points with markers, a legend,
// linear or log-10 x axis, and labelled ticks. Used by `bmc report` for accuracy-vs-density plots.
#pragma once

#include <string>
#include <vector>

namespace bmc::io {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false;
  bool reverse_x = false;  // largest x on the left (density falls left to right)
};

std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& options);

}  // namespace bmc::io
