#include "io/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/png_canvas.h"

namespace bmc::io {
namespace {

constexpr double kLeft = 70, kRight = 190, kTop = 40, kBottom = 60;
constexpr uint32_t kColors[] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b, 0xe377c2, 0x17becf};
constexpr uint32_t kFrame = 0x333333, kGrid = 0xdddddd, kGridX = 0xeeeeee;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

// The tick spacing of 1, 2 or 5 times a power of ten nearest above `raw`.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

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

std::string hex(uint32_t rgb) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%06x", rgb & 0xffffffu);
  return buf;
}

class SvgCanvas : public PlotCanvas {
 public:
  SvgCanvas() {
    out_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kPlotWidth << "\" height=\"" << kPlotHeight
         << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  }
  void line(double x0, double y0, double x1, double y1, uint32_t rgb, double width) override {
    out_ << "<line x1=\"" << x0 << "\" y1=\"" << y0 << "\" x2=\"" << x1 << "\" y2=\"" << y1 << "\" stroke=\""
         << hex(rgb) << "\" stroke-width=\"" << width << "\"/>\n";
  }
  void dot(double x, double y, double radius, uint32_t rgb) override {
    out_ << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"" << radius << "\" fill=\"" << hex(rgb) << "\"/>\n";
  }
  void text(double x, double y, const std::string& s, double size, TextAnchor anchor, bool vertical) override {
    const char* a = anchor == TextAnchor::Start ? "start" : anchor == TextAnchor::Middle ? "middle" : "end";
    out_ << "<text x=\"" << x << "\" y=\"" << y << "\" font-size=\"" << size << "\" text-anchor=\"" << a << "\"";
    if (vertical) out_ << " transform=\"rotate(-90 " << x << " " << y << ")\"";
    out_ << ">" << escape(s) << "</text>\n";
  }
  std::string finish() { return out_.str() + "</svg>\n"; }

 private:
  std::ostringstream out_;
};

}  // namespace

void draw_plot(const std::vector<PlotSeries>& series, const PlotOptions& options, PlotCanvas& c) {
  auto tx = [&](double x) { return options.log_x ? std::log10(std::max(x, 1e-12)) : x; };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (const PlotPoint& p : s.points) {
      x0 = std::min(x0, tx(p.x)), x1 = std::max(x1, tx(p.x));
      y0 = std::min(y0, p.y - p.err), y1 = std::max(y1, p.y + p.err);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  const double pad = std::max(1e-6, (y1 - y0) * 0.08);
  y0 -= pad, y1 += pad;
  const double plot_w = kPlotWidth - kLeft - kRight, plot_h = kPlotHeight - kTop - kBottom;
  auto px = [&](double x) {
    const double t = (tx(x) - x0) / (x1 - x0);
    return kLeft + (options.reverse_x ? 1 - t : t) * plot_w;
  };
  auto py = [&](double y) { return kTop + (1 - (y - y0) / (y1 - y0)) * plot_h; };

  c.text(kPlotWidth / 2, 22, options.title, 15, TextAnchor::Middle, false);
  const double y_step = nice_step((y1 - y0) / 5);
  for (double y = std::ceil(y0 / y_step) * y_step; y <= y1 + 1e-9 * y_step; y += y_step) {  // y grid and ticks
    c.line(kLeft, py(y), kLeft + plot_w, py(y), kGrid, 1);
    c.text(kLeft - 6, py(y) + 4, fmt(std::fabs(y) < 1e-9 * y_step ? 0.0 : y), 12, TextAnchor::End, false);
  }
  std::vector<double> xticks;
  if (options.log_x) {
    for (int e = static_cast<int>(std::floor(x0)); e <= static_cast<int>(std::ceil(x1)); ++e)
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) >= x0 - 1e-9 && std::log10(v) <= x1 + 1e-9) xticks.push_back(v);
      }
  } else {
    const double x_step = nice_step((x1 - x0) / 5);
    for (double x = std::ceil(x0 / x_step) * x_step; x <= x1 + 1e-9 * x_step; x += x_step) xticks.push_back(x);
  }
  for (double v : xticks) {
    c.line(px(v), kTop, px(v), kTop + plot_h, kGridX, 1);
    c.text(px(v), kTop + plot_h + 16, fmt(v), 12, TextAnchor::Middle, false);
  }
  c.line(kLeft, kTop, kLeft + plot_w, kTop, kFrame, 1);
  c.line(kLeft, kTop + plot_h, kLeft + plot_w, kTop + plot_h, kFrame, 1);
  c.line(kLeft, kTop, kLeft, kTop + plot_h, kFrame, 1);
  c.line(kLeft + plot_w, kTop, kLeft + plot_w, kTop + plot_h, kFrame, 1);
  c.text(kLeft + plot_w / 2, kPlotHeight - 18, options.x_label, 12, TextAnchor::Middle, false);
  c.text(22, kTop + plot_h / 2, options.y_label, 12, TextAnchor::Middle, true);
  for (size_t i = 0; i < series.size(); ++i) {
    const uint32_t color = kColors[i % std::size(kColors)];
    std::vector<PlotPoint> pts = series[i].points;
    std::sort(pts.begin(), pts.end(), [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
    for (size_t k = 1; k < pts.size(); ++k)
      c.line(px(pts[k - 1].x), py(pts[k - 1].y), px(pts[k].x), py(pts[k].y), color, 2);
    for (const PlotPoint& p : pts) {
      if (p.err > 0) {
        c.line(px(p.x), py(p.y - p.err), px(p.x), py(p.y + p.err), color, 1.2);
        for (const double e : {p.y - p.err, p.y + p.err}) c.line(px(p.x) - 4, py(e), px(p.x) + 4, py(e), color, 1.2);
      }
      c.dot(px(p.x), py(p.y), 3, color);
    }
    const double ly = kTop + 14 + 18 * static_cast<double>(i);
    c.line(kPlotWidth - kRight + 12, ly - 4, kPlotWidth - kRight + 32, ly - 4, color, 2);
    c.text(kPlotWidth - kRight + 38, ly, series[i].label, 12, TextAnchor::Start, false);
  }
}

std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& options) {
  SvgCanvas canvas;
  draw_plot(series, options, canvas);
  return canvas.finish();
}

std::string write_plot_files(const std::string& svg_path, const std::vector<PlotSeries>& series,
                             const PlotOptions& options) {
  write_file_atomic(svg_path, render_svg_plot(series, options));
  const std::string base = svg_path.size() > 4 && svg_path.ends_with(".svg") ? svg_path.substr(0, svg_path.size() - 4)
                                                                             : svg_path;
  const std::string png_path = base + ".png";
  const std::string font = find_plot_font();
  if (font.empty()) {
    std::fprintf(stderr, "bmc: no TrueType font found for the PNG plot (install fonts-dejavu-core or set "
                         "BMC_PLOT_FONT); wrote the SVG only\n");
    return "";
  }
  PngCanvas canvas(font);
  draw_plot(series, options, canvas);
  write_file_atomic(png_path, canvas.encode());
  return png_path;
}

}  // namespace bmc::io
