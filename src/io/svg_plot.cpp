#include "io/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace bmc::io {
namespace {

constexpr double kWidth = 720, kHeight = 460, kLeft = 70, kRight = 180, kTop = 40, kBottom = 60;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

}  // namespace

std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& options) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (auto [x, y] : s.points) {
      const double tx = options.log_x ? std::log10(std::max(x, 1e-12)) : x;
      x0 = std::min(x0, tx), x1 = std::max(x1, tx), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  const double pad = std::max(1e-6, (y1 - y0) * 0.08);
  y0 -= pad, y1 += pad;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) {
    const double t = ((options.log_x ? std::log10(std::max(x, 1e-12)) : x) - x0) / (x1 - x0);
    return kLeft + (options.reverse_x ? 1 - t : t) * plot_w;
  };
  auto py = [&](double y) { return kTop + (1 - (y - y0) / (y1 - y0)) * plot_h; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << escape(options.title)
      << "</text>\n";
  svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w << "\" height=\"" << plot_h
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (int i = 0; i <= 5; ++i) {  // y ticks
    const double y = y0 + (y1 - y0) * i / 5;
    svg << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + plot_w << "\" y1=\"" << py(y) << "\" y2=\"" << py(y)
        << "\" stroke=\"#ddd\"/><text x=\"" << kLeft - 6 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">"
        << fmt(y) << "</text>\n";
  }
  std::vector<double> xticks;
  if (options.log_x) {
    for (int e = static_cast<int>(std::floor(x0)); e <= static_cast<int>(std::ceil(x1)); ++e)
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) >= x0 - 1e-9 && std::log10(v) <= x1 + 1e-9) xticks.push_back(v);
      }
  } else {
    for (int i = 0; i <= 5; ++i) xticks.push_back(x0 + (x1 - x0) * i / 5);
  }
  for (double v : xticks)
    svg << "<line x1=\"" << px(v) << "\" x2=\"" << px(v) << "\" y1=\"" << kTop << "\" y2=\"" << kTop + plot_h
        << "\" stroke=\"#eee\"/><text x=\"" << px(v) << "\" y=\"" << kTop + plot_h + 16
        << "\" text-anchor=\"middle\">" << fmt(v) << "</text>\n";
  svg << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kHeight - 18 << "\" text-anchor=\"middle\">"
      << escape(options.x_label) << "</text>\n";
  svg << "<text transform=\"translate(18," << kTop + plot_h / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << escape(options.y_label) << "</text>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
    std::vector<std::pair<double, double>> pts = series[i].points;
    std::sort(pts.begin(), pts.end());
    svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
    for (auto [x, y] : pts) svg << px(x) << "," << py(y) << " ";
    svg << "\"/>\n";
    for (auto [x, y] : pts)
      svg << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"3\" fill=\"" << color << "\"/>\n";
    const double ly = kTop + 14 + 18 * static_cast<double>(i);
    svg << "<line x1=\"" << kWidth - kRight + 12 << "\" x2=\"" << kWidth - kRight + 32 << "\" y1=\"" << ly - 4
        << "\" y2=\"" << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"2\"/><text x=\""
        << kWidth - kRight + 38 << "\" y=\"" << ly << "\">" << escape(series[i].label) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace bmc::io
