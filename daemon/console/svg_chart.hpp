// Charts drawn by the server as inline SVG, so the dashboard needs no
// script and loads nothing from elsewhere. Every label is escaped.
#pragma once

#include <string>
#include <string_view>

#include "daemon/campaign/dashboard.hpp"

namespace giftgate::console {

// The figure's table as an <svg> (role="img", with a <title>): the first
// column as labels, each numeric column a series (bars, stacked bars or a
// line, as figure.chart says), with axes, a scale and a legend. Empty for
// ChartKind::none or a table with no rows or no numeric column.
std::string svg_chart(const Figure& figure, std::string_view title);

}  // namespace giftgate::console
