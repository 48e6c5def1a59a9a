#include "cli/bench_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace polyhead::cli {
namespace {

// snprintf into a string; the callers' formats are literals with matching arguments.
template <typename... Args>
std::string fmt(const char* format, Args... args) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), format, args...);
  return buf;
}

// Axis labels: few significant digits, no trailing zeros.
std::string number(double v) {
  return fmt("%.4g", v);
}

std::string shorten(const std::string& s, size_t max_chars) {
  if (s.size() <= max_chars) return s;
  return s.substr(0, max_chars - 3) + "...";
}

// The <svg> element opening; no xmlns: inline SVG in HTML does not need one.
std::string open_svg(int width, int height) {
  return fmt("<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", width, height,
             width, height);
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

double nice_step(double max, int target) {
  if (!(max > 0) || target < 1) return 1;
  const double raw = max / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double step = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return step * magnitude;
}

std::string svg_bar_rows(const std::vector<Bar>& bars, const std::string& unit, int width) {
  const int label_w = 300, note_w = 150, row_h = 20, top = 8, axis_h = 26;
  const int plot_w = std::max(100, width - label_w - note_w);
  const int height = top + row_h * static_cast<int>(bars.size()) + axis_h;
  double max = 0;
  for (const Bar& b : bars) max = std::max(max, b.value);
  const double step = nice_step(max, 5);
  const double axis_max = max > 0 ? std::ceil(max / step) * step : 1;

  std::string s = open_svg(width, height);
  const int plot_bottom = top + row_h * static_cast<int>(bars.size());
  for (int i = 0; i * step <= axis_max + step / 2; ++i) {
    const double v = i * step;
    const double x = label_w + v / axis_max * plot_w;
    s += fmt("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>\n", x, top, x,
             plot_bottom);
    s += fmt("<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", x,
             plot_bottom + 14, number(v).c_str());
  }
  s += fmt("<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">%s</text>\n",
           label_w + plot_w, plot_bottom + 25, html_escape(unit).c_str());
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int y = top + row_h * static_cast<int>(i);
    const double w = std::max(0.5, b.value / axis_max * plot_w);
    s += "<g><title>" + html_escape(b.title.empty() ? b.label : b.title) + "</title>";
    s += fmt("<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">%s</text>", label_w - 6,
             y + 14, html_escape(shorten(b.label, 44)).c_str());
    s += fmt("<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", label_w, y + 3,
             w, row_h - 6, html_escape(b.color).c_str());
    s += fmt("<text x=\"%.1f\" y=\"%d\" class=\"value\">%s %s</text></g>\n", label_w + w + 5,
             y + 14, number(b.value).c_str(), html_escape(b.note).c_str());
  }
  return s + "</svg>\n";
}

std::string svg_columns(const std::vector<Bar>& bars, const std::string& unit, int width,
                        int height) {
  const int left = 56, right = 12, top = 34, bottom = 40;
  const int plot_w = std::max(50, width - left - right),
            plot_h = std::max(50, height - top - bottom);
  double max = 0;
  for (const Bar& b : bars) max = std::max(max, b.value);
  const double step = nice_step(max, 5);
  const double axis_max = max > 0 ? std::ceil(max / step) * step : 1;

  std::string s = open_svg(width, height);
  for (int i = 0; i * step <= axis_max + step / 2; ++i) {
    const double v = i * step;
    const double y = top + plot_h - v / axis_max * plot_h;
    s += fmt("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n", left, y,
             left + plot_w, y);
    s += fmt("<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>\n", left - 5,
             y + 4, number(v).c_str());
  }
  s += fmt("<text x=\"%d\" y=\"%d\" class=\"tick\">%s</text>\n", 4, top - 14,
           html_escape(unit).c_str());
  const double slot = bars.empty() ? plot_w : static_cast<double>(plot_w) / bars.size();
  const double col_w = std::min(90.0, slot * 0.6);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double cx = left + slot * (static_cast<double>(i) + 0.5);
    const double h = std::max(0.5, b.value / axis_max * plot_h);
    const double y = top + plot_h - h;
    s += "<g><title>" + html_escape(b.title.empty() ? b.label : b.title) + "</title>";
    s += fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
             cx - col_w / 2, y, col_w, h, html_escape(b.color).c_str());
    s += fmt("<text x=\"%.1f\" y=\"%.1f\" class=\"value\" text-anchor=\"middle\">%s</text>", cx,
             y - (b.note.empty() ? 5 : 18), number(b.value).c_str());
    if (!b.note.empty())
      s += fmt("<text x=\"%.1f\" y=\"%.1f\" class=\"note\" text-anchor=\"middle\">%s</text>", cx,
               y - 5, html_escape(b.note).c_str());
    s += fmt("<text x=\"%.1f\" y=\"%d\" class=\"label\" text-anchor=\"middle\">%s</text></g>\n", cx,
             top + plot_h + 16, html_escape(shorten(b.label, 18)).c_str());
  }
  s += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", left, top + plot_h,
           left + plot_w, top + plot_h);
  return s + "</svg>\n";
}

std::string svg_histogram(const Histogram& h, const std::vector<Marker>& markers,
                          const std::string& unit, const std::string& color, int width,
                          int height) {
  const int left = 56, right = 16, top = 16 + 14 * static_cast<int>(markers.size()), bottom = 40;
  const int plot_w = std::max(50, width - left - right),
            plot_h = std::max(50, height - top - bottom);
  std::string s = open_svg(width, height);
  if (h.counts.empty()) return s + "</svg>\n";
  const size_t bins = h.counts.size();
  const size_t peak = *std::max_element(h.counts.begin(), h.counts.end());
  const double count_step = nice_step(static_cast<double>(peak), 4);
  const double count_max =
      std::max(1.0, std::ceil(static_cast<double>(peak) / count_step) * count_step);
  // The value range: a single-valued sample gets a small span around its value.
  const double lo = h.bin_width > 0 ? h.lo : h.lo - 0.5 * std::max(std::abs(h.lo) * 0.01, 1e-6);
  const double hi = h.bin_width > 0 ? h.lo + h.bin_width * static_cast<double>(bins)
                                    : h.lo + 0.5 * std::max(std::abs(h.lo) * 0.01, 1e-6);
  auto x_of = [&](double v) { return left + (v - lo) / (hi - lo) * plot_w; };

  for (int i = 0; i * count_step <= count_max + count_step / 2; ++i) {
    const double c = i * count_step;
    const double y = top + plot_h - c / count_max * plot_h;
    s += fmt("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n", left, y,
             left + plot_w, y);
    s += fmt("<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>\n", left - 5,
             y + 4, number(c).c_str());
  }
  const double bin_px = static_cast<double>(plot_w) / static_cast<double>(bins);
  for (size_t i = 0; i < bins; ++i) {
    if (h.counts[i] == 0) continue;
    const double bh = static_cast<double>(h.counts[i]) / count_max * plot_h;
    const double from = h.lo + h.bin_width * static_cast<double>(i);
    s +=
        fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
            "<title>%zu runs in [%s, %s] %s</title></rect>\n",
            left + bin_px * static_cast<double>(i) + 0.5, top + plot_h - bh,
            std::max(0.5, bin_px - 1.0), bh, html_escape(color).c_str(), h.counts[i],
            number(from).c_str(), number(from + h.bin_width).c_str(), html_escape(unit).c_str());
  }
  const double step = nice_step(hi - lo, 6);
  const double first_tick = std::ceil(lo / step) * step;
  for (int i = 0; first_tick + i * step <= hi + step * 1e-9; ++i) {
    const double v = first_tick + i * step;
    s += fmt("<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", x_of(v),
             top + plot_h + 15, number(v).c_str());
  }
  s += fmt("<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">%s</text>\n", left + plot_w,
           top + plot_h + 32, html_escape(unit).c_str());
  s += fmt("<text x=\"%d\" y=\"%d\" class=\"tick\">runs</text>\n", 4, top - 4);
  for (size_t i = 0; i < markers.size(); ++i) {
    const Marker& m = markers[i];
    const double x =
        std::clamp(x_of(m.value), static_cast<double>(left), static_cast<double>(left + plot_w));
    const int label_y = 12 + 14 * static_cast<int>(i);
    s +=
        fmt("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
            "stroke-dasharray=\"4 3\" stroke-width=\"1.5\"/>\n",
            x, label_y + 3, x, top + plot_h, html_escape(m.color).c_str());
    const bool right_half = x > left + plot_w * 0.7;
    s += fmt(
        "<text x=\"%.1f\" y=\"%d\" class=\"note\" fill=\"%s\" text-anchor=\"%s\">%s %s</text>\n",
        right_half ? x - 4 : x + 4, label_y, html_escape(m.color).c_str(),
        right_half ? "end" : "start", html_escape(m.label).c_str(), number(m.value).c_str());
  }
  s += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", left, top + plot_h,
           left + plot_w, top + plot_h);
  return s + "</svg>\n";
}

}  // namespace polyhead::cli
