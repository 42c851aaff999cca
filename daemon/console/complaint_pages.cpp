// Stub: filled in by the change that writes these pages.
#include "daemon/console/console.hpp"

namespace giftgate::console {

std::vector<Route> complaint_routes() { return {}; }

std::string open_complaint_form(const Page&, std::string_view, const std::optional<std::string>&) {
  return {};
}

std::string member_complaints(Context&, const Page&, std::int64_t) { return {}; }

}  // namespace giftgate::console
