#include "daemon/gateway/router.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace giftgate {

Router::Wanted Router::wanted(const std::string& route, bool ussd, bool prefer_origin) {
  Wanted w;
  if (route.empty()) return w;
  const auto hash = route.find('#');
  w.smsc = route.substr(0, hash);
  if (hash != std::string::npos && ussd) {
    int bind = 0;
    const char* first = route.data() + hash + 1;
    const char* last = route.data() + route.size();
    if (const auto [end, ec] = std::from_chars(first, last, bind); ec == std::errc() && end == last)
      w.bind = bind;
  }
  w.required = ussd;
  if (!ussd && !prefer_origin) w.smsc.clear();
  return w;
}

std::string Router::route_of(const std::string& smsc, int bind, bool keep_bind) {
  return keep_bind ? fmt::format("{}#{}", smsc, bind) : smsc;
}

std::optional<std::size_t> Router::pick(std::vector<Connection>& connections,
                                        const Wanted& wanted, std::size_t parts) {
  const std::size_t n = connections.size();
  if (n == 0) return std::nullopt;
  // The most room among those `fits` allows, starting at next_ so that
  // ties go round.
  const auto best = [&](auto fits) -> std::optional<std::size_t> {
    std::optional<std::size_t> found;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (next_ + k) % n;
      const auto& c = connections[i];
      if (!c.bound || !fits(c)) continue;
      if (!found || c.room > connections[*found].room) found = i;
    }
    return found;
  };
  const auto in_smsc = [&](const Connection& c) {
    return c.smsc == wanted.smsc && (!wanted.bind || c.bind == *wanted.bind);
  };
  std::optional<std::size_t> chosen;
  if (wanted.required) {
    chosen = best(in_smsc);
  } else {
    if (!wanted.smsc.empty())
      chosen = best([&](const Connection& c) { return in_smsc(c) && c.room > 0; });
    if (!chosen) chosen = best([](const Connection& c) { return c.room > 0; });
  }
  if (!chosen) return std::nullopt;
  auto& c = connections[*chosen];
  c.room -= std::min(c.room, parts);
  next_ = (*chosen + 1) % n;
  return chosen;
}

}  // namespace giftgate
