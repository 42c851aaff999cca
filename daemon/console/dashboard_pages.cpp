// The campaign dashboard: every figure of dashboard.hpp as a chart the
// server draws, a table and a CSV download. Read-only: an agent's look.
#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/dashboard.hpp"
#include "daemon/console/console.hpp"
#include "daemon/console/html.hpp"
#include "daemon/console/svg_chart.hpp"

namespace giftgate::console {
namespace {

constexpr std::string_view kCsvSuffix = ".csv";

// The figures read whole scans of the vouchers and messages, on the
// gateway's thread inside its batch: a manager pressing reload must not
// hold up the SMS traffic each time. So the dashboard keeps what it read
// for a minute (the page says as of when), and reads again after that;
// only a whole, successful read is kept. (Only the gateway's thread calls
// the handlers, so the snapshot needs no lock.)
constexpr std::chrono::seconds kFresh{60};

struct Snapshot {
  Time at{};
  std::vector<Figure> figures;  // in figure_names() order; empty: none kept
  bool fresh(Time now) const { return !figures.empty() && now >= at && now - at < kFresh; }
};

std::string_view title_of(const Figure& figure, Language language) {
  return tr(language, figure.title_en, figure.title_zh);
}

bool known_figure(std::string_view name) {
  const auto& names = figure_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A spreadsheet opening the file runs a cell that starts with = + - @ (or
// a tab or carriage return before one) as a formula: such a cell, a
// merchant's name, say, starts with ' instead, which shows it as text. A
// number in a numeric column (a negative lift) stays a number.
std::string defused(std::string_view cell, bool numeric) {
  if (cell.empty() || (numeric && plain_number(cell))) return std::string(cell);
  switch (cell[0]) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return "'" + std::string(cell);
    default:
      return std::string(cell);
  }
}

// Every figure as at `now`, or nullopt with *error (the figure's name in
// *failed) when the database failed.
std::optional<std::vector<Figure>> read_figures(Context& context, Time now, std::string* error,
                                                std::string* failed) {
  std::vector<Figure> figures;
  for (const auto name : figure_names()) {
    auto figure = dashboard_figure(context.db, context.config, name, now, error);
    if (!figure) {
      *failed = std::string(name);
      return std::nullopt;
    }
    figures.push_back(std::move(*figure));
  }
  return figures;
}

http::Response dashboard(Context& context, Page& page, Snapshot& kept) {
  if (!kept.fresh(page.now)) {
    std::string error, failed;
    auto figures = read_figures(context, page.now, &error, &failed);
    if (!figures) {
      context.log.warning("dashboard_failed", {{"figure", failed}, {"error", error}});
      return database_page(page, error);
    }
    kept = {page.now, std::move(*figures)};
  }
  std::string index = "<nav class=\"figures\"><ul>";
  std::string sections;
  for (const auto& figure : kept.figures) {
    const auto title = title_of(figure, page.language);
    index += fmt::format("<li>{}</li>", link(fmt::format("#figure-{}", figure.name), title));
    sections += fmt::format(
        "<section id=\"figure-{0}\" class=\"figure\">\n<h2>{1}</h2>\n{2}"
        "<p><a class=\"csv\" href=\"/console/dashboard/{0}.csv\">{3}</a></p>\n{4}"
        "</section>\n",
        escape(figure.name), escape(title), svg_chart(figure, title),
        escape(tr(page.language, "Download CSV", "下载 CSV")),
        table_html(figure.table, fmt::format("table-{}", figure.name),
                   tr(page.language, "Nothing yet.", "暂无数据。")));
  }
  index += "</ul></nav>\n";
  const std::string as_of = fmt::format(
      "<p id=\"as-of\">{} {}</p>\n", escape(tr(page.language, "Figures as of", "数据时间")),
      escape(format_local_time(context.config.time_zone, kept.at)));
  return console::page(page, 200, tr(page.language, "Campaign dashboard", "活动看板"),
                       as_of + index + sections);
}

http::Response csv_download(Context& context, Page& page, const Snapshot& kept) {
  const std::string_view file = page.param("file");
  const auto not_found = [&] {
    return error_page(page, 404, tr(page.language, "There is no such figure.", "没有这个图表。"));
  };
  if (file.size() <= kCsvSuffix.size() || !file.ends_with(kCsvSuffix)) return not_found();
  const std::string_view name = file.substr(0, file.size() - kCsvSuffix.size());
  if (!known_figure(name)) return not_found();
  // The figures the page shows, while they are kept: the file says what
  // the chart above its link said.
  std::optional<Figure> figure;
  if (kept.fresh(page.now))
    for (const auto& f : kept.figures)
      if (f.name == name) figure = f;
  if (!figure) {
    std::string error;
    figure = dashboard_figure(context.db, context.config, name, page.now, &error);
    if (!figure) {
      context.log.warning("dashboard_failed", {{"figure", name}, {"error", error}});
      return database_page(page, error);
    }
  }
  Table& t = figure->table;
  for (std::size_t c = 0; c < t.columns.size(); ++c) t.columns[c] = defused(t.columns[c], false);
  for (auto& row : t.rows)
    for (std::size_t c = 0; c < row.size(); ++c)
      row[c] = defused(row[c], c < t.numeric.size() && t.numeric[c]);
  std::ostringstream body;
  print(body, t, Format::csv);

  http::Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(body).str();
  // The name is one of figure_names(): nothing to quote in it.
  r.headers.emplace_back("Content-Disposition",
                         fmt::format("attachment; filename=\"{}.csv\"", name));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

std::vector<Route> dashboard_routes() {
  // One snapshot for this console's dashboard and its downloads.
  auto kept = std::make_shared<Snapshot>();
  // The frame matches {file} as a whole segment: "stock.csv" is cut here.
  return {
      {"GET", "/console/dashboard", DeskAction::look,
       [kept](Context& context, Page& page) { return dashboard(context, page, *kept); }},
      {"GET", "/console/dashboard/{file}", DeskAction::look,
       [kept](Context& context, Page& page) { return csv_download(context, page, *kept); }},
  };
}

}  // namespace giftgate::console
