// The dashboard's charts (svg_chart.hpp): well-formed SVG with one shape per
// value, a scale with round steps, every label escaped, nothing for nothing.
#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <vector>

#include "daemon/console/svg_chart.hpp"

using namespace giftgate;
using console::svg_chart;

namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size()))
    ++n;
  return n;
}

// Whether every element opened is closed, in order, and no '<' or '>'
// stands outside a tag (escape() makes them entities in text).
bool balanced(const std::string& svg, std::string* why) {
  std::vector<std::string> open;
  for (std::size_t i = 0; i < svg.size();) {
    if (svg[i] == '>') {
      *why = "a '>' outside a tag at " + std::to_string(i);
      return false;
    }
    if (svg[i] != '<') {
      ++i;
      continue;
    }
    const auto end = svg.find('>', i);
    if (end == std::string::npos) {
      *why = "a tag not ended";
      return false;
    }
    const std::string tag = svg.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) {
      *why = "a '<' inside a tag: " + tag;
      return false;
    }
    i = end + 1;
    if (tag.empty()) return false;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) {
        *why = "</" + tag.substr(1) + "> closes " + (open.empty() ? "nothing" : open.back());
        return false;
      }
      open.pop_back();
      continue;
    }
    if (tag.back() == '/') continue;  // <rect .../>
    open.push_back(tag.substr(0, tag.find_first_of(" \n")));
  }
  if (!open.empty()) *why = "<" + open.back() + "> never closed";
  return open.empty();
}

Figure figure(ChartKind kind, std::vector<std::vector<std::string>> rows) {
  Figure f;
  f.name = "test-figure";
  f.chart = kind;
  f.table.add_column("merchant");
  f.table.add_column("used", true);
  f.table.add_column("failed", true);
  f.table.add_column("note");
  f.table.rows = std::move(rows);
  return f;
}

void check_well_formed(const std::string& svg) {
  REQUIRE_FALSE(svg.empty());
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.ends_with("</svg>\n"));
  CHECK(svg.find("role=\"img\"") != std::string::npos);
  CHECK(svg.find("viewBox=\"0 0 720 280\"") != std::string::npos);
  CHECK(count(svg, "<title id=") == 1);
  std::string why;
  CHECK_MESSAGE(balanced(svg, &why), why);
  // Nothing that runs or loads: no script, no link out, no style the
  // console's policy would refuse.
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("href") == std::string::npos);
  CHECK(svg.find("style") == std::string::npos);
  CHECK(svg.find("url(") == std::string::npos);
}

// The values of the scale's labels, lowest first.
std::vector<std::string> ticks(const std::string& svg) {
  std::vector<std::string> out;
  const std::regex tick(
      "<text x=\"54.0\" y=\"[0-9.]+\" text-anchor=\"end\" fill=\"#333333\">([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

}  // namespace

TEST_CASE("svg chart: bars, one rect per value, the legend and a round scale") {
  const auto f =
      figure(ChartKind::bars,
             {{"Star KTV", "3", "1", "x"}, {"Sky", "7", "0", "y"}, {"Bund", "0", "2", "z"}});
  const auto svg = svg_chart(f, "Verifications");
  check_well_formed(svg);
  CHECK(count(svg, "<rect class=\"bar\"") == 6);  // 3 rows x 2 numeric columns
  CHECK(count(svg, "<rect class=\"key\"") == 2);  // the legend: used, failed
  CHECK(svg.find(">used</text>") != std::string::npos);
  CHECK(svg.find(">failed</text>") != std::string::npos);
  CHECK(svg.find(">note<") == std::string::npos);  // a text column is no series
  CHECK(svg.find("<title id=\"chart-test-figure-title\">Verifications</title>") !=
        std::string::npos);
  CHECK(ticks(svg) == std::vector<std::string>{"0", "2", "4", "6", "8"});
  // Each bar says what it is when pointed at.
  CHECK(svg.find("<title>Sky: used 7</title>") != std::string::npos);
}

TEST_CASE("svg chart: only the figure's series are drawn") {
  auto f = figure(ChartKind::bars, {{"a", "3", "1000000", ""}, {"b", "4", "2000000", ""}});
  f.series = {1};
  const auto svg = svg_chart(f, "t");
  check_well_formed(svg);
  CHECK(count(svg, "<rect class=\"bar\"") == 2);
  CHECK(count(svg, "<rect class=\"key\"") == 1);
  CHECK(ticks(svg) == std::vector<std::string>{"0", "1", "2", "3", "4"});
}

TEST_CASE("svg chart: stacked bars stack, a line is one polyline per series") {
  const auto rows = std::vector<std::vector<std::string>>{{"2026-11-10", "3", "2", ""},
                                                          {"2026-11-11", "5", "4", ""}};
  const auto stacked = svg_chart(figure(ChartKind::stacked_bars, rows), "t");
  check_well_formed(stacked);
  CHECK(count(stacked, "<rect class=\"bar\"") == 4);
  // The highest stack is 9: the scale reaches 10.
  CHECK(ticks(stacked) == std::vector<std::string>{"0", "2", "4", "6", "8", "10"});

  const auto line = svg_chart(figure(ChartKind::line, rows), "t");
  check_well_formed(line);
  CHECK(count(line, "<polyline") == 2);
  CHECK(count(line, "<rect class=\"bar\"") == 0);
  CHECK(count(line, "<circle") == 4);
}

TEST_CASE("svg chart: every label is escaped") {
  const auto f = figure(ChartKind::bars, {{"<script>alert(1)</script>", "1", "2", ""},
                                          {"Tom & \"Jerry's\"", "3", "4", ""}});
  auto g = f;
  g.table.columns[1] = "<b>used</b>";
  const auto svg = svg_chart(g, "<i>title</i>");
  check_well_formed(svg);
  CHECK(svg.find("<script>") == std::string::npos);
  CHECK(svg.find("<b>") == std::string::npos);
  CHECK(svg.find("<i>") == std::string::npos);
  CHECK(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(svg.find("Tom &amp; &quot;Jerry&#39;s&quot;") != std::string::npos);
  CHECK(svg.find("&lt;b&gt;used&lt;/b&gt;") != std::string::npos);
  CHECK(svg.find("&lt;i&gt;title&lt;/i&gt;") != std::string::npos);
}

TEST_CASE("svg chart: long labels are cut between characters, wholly in the tooltip") {
  const std::string name = "北京市朝阳区星光大道欢乐KTV旗舰店";  // 3 bytes a character
  const auto svg = svg_chart(figure(ChartKind::bars, {{name, "1", "2", ""}}), "t");
  check_well_formed(svg);
  CHECK(svg.find(">北京市朝阳区\u2026</text>") != std::string::npos);  // 12 of 14 columns, and …
  CHECK(svg.find("<title>" + name + ": used 1</title>") != std::string::npos);
}

TEST_CASE("svg chart: nothing to draw gives nothing") {
  CHECK(svg_chart(figure(ChartKind::bars, {}), "t").empty());
  CHECK(svg_chart(figure(ChartKind::none, {{"a", "1", "2", ""}}), "t").empty());
  Figure text_only;
  text_only.name = "x";
  text_only.table.add_column("a");
  text_only.table.add_column("b");
  text_only.table.rows = {{"1", "2"}};
  CHECK(svg_chart(text_only, "t").empty());
  auto no_series = figure(ChartKind::bars, {{"a", "1", "2", ""}});
  no_series.series = {3, 9};  // a text column and none
  CHECK(svg_chart(no_series, "t").empty());
}

TEST_CASE("svg chart: zeros, large numbers, decimals and blanks draw a sensible scale") {
  const auto zeros = svg_chart(figure(ChartKind::bars, {{"a", "0", "0", ""}}), "t");
  check_well_formed(zeros);
  CHECK(ticks(zeros) == std::vector<std::string>{"0", "1"});

  const auto large = svg_chart(
      figure(ChartKind::bars, {{"a", "12000000", "3", ""}, {"b", "900000000000", "", ""}}), "t");
  check_well_formed(large);
  CHECK(ticks(large) == std::vector<std::string>{"0", "200G", "400G", "600G", "800G", "1000G"});
  CHECK(large.find("nan") == std::string::npos);
  CHECK(large.find("inf") == std::string::npos);

  const auto thousands = svg_chart(figure(ChartKind::bars, {{"a", "24000", "1", ""}}), "t");
  CHECK(ticks(thousands) == std::vector<std::string>{"0", "5k", "10k", "15k", "20k", "25k"});

  const auto rates = svg_chart(figure(ChartKind::bars, {{"a", "0.35", "0.8", ""}}), "t");
  check_well_formed(rates);
  CHECK(ticks(rates) == std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8"});

  const auto negative = svg_chart(figure(ChartKind::bars, {{"a", "-30", "50", ""}}), "t");
  check_well_formed(negative);
  CHECK(ticks(negative) == std::vector<std::string>{"-40", "-20", "0", "20", "40", "60"});
}

TEST_CASE("svg chart: many rows: the first bars drawn and a note, every day of a line") {
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 100; ++i) rows.push_back({"m" + std::to_string(i), "1", "2", ""});
  const auto bars = svg_chart(figure(ChartKind::bars, rows), "t");
  check_well_formed(bars);
  CHECK(count(bars, "<rect class=\"bar\"") == 80);  // 40 rows
  CHECK(bars.find("1\u201340 / 100") != std::string::npos);
  const auto line = svg_chart(figure(ChartKind::line, rows), "t");
  check_well_formed(line);
  CHECK(count(line, "<polyline") == 2);
  CHECK(count(line, "<circle") == 0);           // too many to mark
  CHECK(count(line, "class=\"label\"") < 100);  // labels thinned out
}
