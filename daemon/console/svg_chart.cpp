#include "daemon/console/svg_chart.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "daemon/campaign/table.hpp"
#include "daemon/console/html.hpp"
#include "protocol/utf8.hpp"

namespace giftgate::console {
namespace {

// The canvas in the viewBox's units (CSS pixels at its natural size); the
// margins hold the scale on the left and the labels below.
constexpr double kWidth = 720;
constexpr double kHeight = 280;
constexpr double kLeft = 60;
constexpr double kRight = 16;
constexpr double kBottom = 76;
constexpr double kColumn = 6.2;            // one terminal column of 11 px sans-serif, about
constexpr std::size_t kMaxBars = 40;       // rows past these are in the table below, not drawn
constexpr std::size_t kMaxMarkers = 62;    // a line's points are marked up to this many
constexpr std::size_t kLabelColumns = 14;  // a longer label is cut (whole in its tooltip)

// Okabe and Ito's palette: its colours stay apart for the common colour
// blindnesses, and print in grey as different shades.
constexpr std::array<std::string_view, 8> kPalette = {"#0072b2", "#e69f00", "#009e73", "#d55e00",
                                                      "#cc79a7", "#56b4e9", "#f0e442", "#000000"};

std::string_view colour(std::size_t series) { return kPalette[series % kPalette.size()]; }

// A cell as a number: empty or not a number (a rate with no group to
// compare) draws as 0; the tooltip shows the cell as it is.
double value_of(std::string_view text) {
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc{} || !std::isfinite(v)) return 0;
  return v;
}

std::string coord(double v) { return fmt::format("{:.1f}", v); }

// `text` cut to `columns` terminal columns (a wide character counts two),
// never inside a character, with an ellipsis where it was cut.
std::string fit(std::string_view text, std::size_t columns) {
  if (display_width(text) <= columns) return std::string(text);
  std::string out;
  std::size_t used = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t at = pos;
    if (!utf8::next(text, pos)) pos = at + 1;  // a bad byte: escape() shows it as U+FFFD
    const auto piece = text.substr(at, pos - at);
    const std::size_t w = display_width(piece);
    if (used + w + 1 > columns) break;
    used += w;
    out.append(piece);
  }
  return out + "\u2026";
}

// A scale from `low` to `high` in steps of 1, 2 or 5 times a power of ten,
// about five of them, covering the values; whole steps for counts.
struct Scale {
  double low = 0, high = 1, step = 1;
  double at(double v, double top, double bottom) const {
    return bottom - (v - low) / (high - low) * (bottom - top);
  }
};

Scale nice_scale(double low, double high, bool whole) {
  if (high <= low) high = low + 1;  // all zero (or all one value): still a scale
  const double raw = (high - low) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
  if (whole) step = std::max(step, 1.0);
  // (The slack keeps 0.8 / 0.2 from rounding up to a fifth step.)
  return {std::floor(low / step + 1e-9) * step, std::ceil(high / step - 1e-9) * step, step};
}

// A tick's text: 250, 5k, 20M, 0.4; in the largest unit the step is
// whole in, with as many decimals as the step needs.
std::string tick_text(double v, double step) {
  static constexpr std::array<std::pair<double, std::string_view>, 4> kUnits = {
      {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}};
  double unit = 1;
  std::string_view suffix;
  for (const auto& [u, s] : kUnits)
    if (step >= u) {
      unit = u;
      suffix = s;
      break;
    }
  const double scaled_step = step / unit;
  double scaled = v / unit;
  if (std::abs(scaled) < scaled_step * 1e-6) return "0";  // not "-0", nor "0k"
  const int decimals =
      scaled_step >= 1 ? 0
                       : std::min(6, static_cast<int>(std::ceil(-std::log10(scaled_step) - 1e-9)));
  return fmt::format("{:.{}f}{}", scaled, decimals, suffix);
}

}  // namespace

std::string svg_chart(const Figure& figure, std::string_view title) {
  const Table& t = figure.table;
  if (figure.chart == ChartKind::none || t.rows.empty() || t.columns.empty()) return {};
  // The series: the figure's choice, else every numeric column but the label.
  std::vector<std::size_t> series;
  const auto numeric = [&](std::size_t c) {
    return c > 0 && c < t.columns.size() && c < t.numeric.size() && t.numeric[c];
  };
  if (figure.series.empty()) {
    for (std::size_t c = 1; c < t.columns.size(); ++c)
      if (numeric(c)) series.push_back(c);
  } else {
    for (auto c : figure.series)
      if (numeric(c)) series.push_back(c);
  }
  if (series.empty()) return {};

  const bool line = figure.chart == ChartKind::line;
  const bool stacked = figure.chart == ChartKind::stacked_bars;
  // A line shows every day; bars past kMaxBars would be slivers, so the
  // first rows are drawn (the figures come busiest first) and the note says so.
  const std::size_t n = line ? t.rows.size() : std::min(t.rows.size(), kMaxBars);
  const auto cell = [&](std::size_t row, std::size_t column) -> std::string_view {
    const auto& r = t.rows[row];
    return column < r.size() ? std::string_view(r[column]) : std::string_view();
  };
  const auto label = [&](std::size_t row) { return cell(row, 0); };

  double low = 0, high = 0;
  bool whole = true;
  for (std::size_t r = 0; r < n; ++r) {
    double stack = 0;
    for (auto c : series) {
      const double v = value_of(cell(r, c));
      whole = whole && v == std::floor(v);
      if (stacked) {
        stack += std::max(v, 0.0);  // counts: a negative cell (there is none) adds nothing
      } else {
        low = std::min(low, v);
        high = std::max(high, v);
      }
    }
    high = std::max(high, stack);
  }
  const Scale scale = nice_scale(low, high, whole);

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {0} {1}\" "
      "width=\"{0}\" height=\"{1}\" role=\"img\" aria-labelledby=\"chart-{2}-title\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<title id=\"chart-{2}-title\">{3}</title>\n",
      kWidth, kHeight, escape(figure.name), escape(title));

  // The legend, in rows across the top; the note of rows left out at its right.
  const double right = kWidth - kRight;
  std::string note;
  if (n < t.rows.size()) note = fmt::format("1\u2013{} / {}", n, t.rows.size());
  const double legend_end = right - (note.empty() ? 0 : 90);
  double x = kLeft, y = 14;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const auto& name = t.columns[series[s]];
    const double w = 14 + static_cast<double>(display_width(fit(name, 24))) * kColumn + 16;
    if (x + w > legend_end && x > kLeft) {
      x = kLeft;
      y += 16;
    }
    out += fmt::format(
        "<rect class=\"key\" x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\">{}</text>\n",
        coord(x), coord(y - 9), colour(s), coord(x + 14), coord(y), escape(fit(name, 24)));
    x += w;
  }
  if (!note.empty())
    out += fmt::format("<text class=\"note\" x=\"{}\" y=\"14\" text-anchor=\"end\">{}</text>\n",
                       coord(right), escape(note));
  const double top = y + 14;
  const double bottom = kHeight - kBottom;
  const auto at = [&](double v) { return scale.at(v, top, bottom); };

  // The scale: a grid line and its value at each step.
  for (int i = 0; i <= 20; ++i) {
    const double v = scale.low + i * scale.step;
    if (v > scale.high + scale.step * 1e-9) break;
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#dddddd\"/>"
        "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\" fill=\"#333333\">{5}</text>\n",
        coord(kLeft), coord(right), coord(at(v)), coord(kLeft - 6), coord(at(v) + 4),
        escape(tick_text(v, scale.step)));
  }

  const double slot = (right - kLeft) / static_cast<double>(n);
  const double zero = at(std::clamp(0.0, scale.low, scale.high));
  if (line) {
    for (std::size_t s = 0; s < series.size(); ++s) {
      std::string points;
      for (std::size_t r = 0; r < n; ++r)
        points += fmt::format("{}{},{}", r ? " " : "", coord(kLeft + (r + 0.5) * slot),
                              coord(at(value_of(cell(r, series[s])))));
      out += fmt::format(
          "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
          "points=\"{}\"/>\n",
          colour(s), points);
      if (n > kMaxMarkers) continue;
      for (std::size_t r = 0; r < n; ++r)
        out += fmt::format(
            "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}: {} "
            "{}</title></circle>\n",
            coord(kLeft + (r + 0.5) * slot), coord(at(value_of(cell(r, series[s])))), colour(s),
            escape(label(r)), escape(t.columns[series[s]]), escape(cell(r, series[s])));
    }
  } else {
    const double group = slot * 0.8;
    const double width = stacked ? group : group / static_cast<double>(series.size());
    for (std::size_t r = 0; r < n; ++r) {
      double base = 0;  // a stack's top so far
      for (std::size_t s = 0; s < series.size(); ++s) {
        const double v = value_of(cell(r, series[s]));
        double from = zero, to = at(v);
        double bar_x = kLeft + r * slot + slot * 0.1;
        if (stacked) {
          from = at(base);
          base += std::max(v, 0.0);
          to = at(base);
        } else {
          bar_x += static_cast<double>(s) * width;
        }
        out += fmt::format(
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
            "<title>{}: {} {}</title></rect>\n",
            coord(bar_x), coord(std::min(from, to)), coord(width), coord(std::abs(from - to)),
            colour(s), escape(label(r)), escape(t.columns[series[s]]), escape(cell(r, series[s])));
      }
    }
  }

  // The axes over the bars, then the labels: across when they fit, else
  // slanted while a slot is wide enough for a line of text, else every
  // k-th across (a line over many days).
  out += fmt::format(
      "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333333\"/>"
      "<line x1=\"{0}\" x2=\"{3}\" y1=\"{4}\" y2=\"{4}\" stroke=\"#333333\"/>\n",
      coord(kLeft), coord(top), coord(bottom), coord(right), coord(zero));
  std::size_t longest = 1;
  for (std::size_t r = 0; r < n; ++r)
    longest = std::max(longest, std::min(display_width(label(r)), kLabelColumns + 1));
  const double needed = static_cast<double>(longest) * kColumn + 6;
  const bool slanted = needed > slot && slot >= 13;
  const std::size_t every =
      needed > slot && !slanted ? static_cast<std::size_t>(std::ceil(needed / slot)) : 1;
  for (std::size_t r = 0; r < n; r += every) {
    const double cx = kLeft + (r + 0.5) * slot;
    const std::string text = escape(fit(label(r), kLabelColumns));
    if (slanted)
      out += fmt::format(
          "<text class=\"label\" x=\"{0}\" y=\"{1}\" text-anchor=\"end\" "
          "transform=\"rotate(-45 {0} {1})\">{2}</text>\n",
          coord(cx), coord(bottom + 12), text);
    else
      out +=
          fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                      coord(cx), coord(bottom + 16), text);
  }
  return out + "</svg>\n";
}

}  // namespace giftgate::console
