// Reading the configuration's YAML with errors that name file and line.
// Internal to the configuration loaders (config.cpp, config_daemon.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

struct DaemonSettings;

namespace config_detail {

// A mapping's value for key, or an undefined node (false in a test) when the
// mapping or the key is missing. Never creates nodes, unlike operator[].
inline YAML::Node child(const YAML::Node& map, const char* key) {
  if (!map || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return map[key];
}

// Reads one YAML document, remembering the first error with its line.
class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  // At a node; one that is not in the file (a default) has no line.
  void fail(const YAML::Node& at, const std::string& message) {
    if (failed()) return;
    error_ = at.IsDefined() ? fmt::format("{}:{}: {}", source_, at.Mark().line + 1, message)
                            : fmt::format("{}: {}", source_, message);
  }

  // A section must be a mapping of known keys only (or absent).
  bool section(const YAML::Node& node, std::string_view name,
               std::initializer_list<std::string_view> known) {
    if (!node || node.IsNull()) return true;
    if (!node.IsMap()) {
      fail(node, fmt::format("{} must be a mapping of keys", name));
      return false;
    }
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      bool ok = false;
      for (auto k : known) ok = ok || k == key;
      if (!ok) {
        fail(kv.first, fmt::format("unknown key '{}' in {}", key, name));
        return false;
      }
    }
    return true;
  }

  std::int64_t integer(const YAML::Node& map, const char* key, std::int64_t fallback,
                       std::int64_t min, std::int64_t max) {
    const auto node = child(map, key);
    if (!node) return fallback;
    std::int64_t v = 0;
    if (!node.IsScalar() || !YAML::convert<std::int64_t>::decode(node, v)) {
      fail(node, fmt::format("{} must be a whole number", key));
      return fallback;
    }
    if (v < min || v > max) fail(node, fmt::format("{} must be between {} and {}", key, min, max));
    return v;
  }

  bool flag(const YAML::Node& map, const char* key, bool fallback) {
    const auto node = child(map, key);
    if (!node) return fallback;
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      fail(node, fmt::format("{} must be true or false", key));
      return fallback;
    }
    return v;
  }

  std::string text(const YAML::Node& map, const char* key, std::string fallback) {
    const auto node = child(map, key);
    if (!node) return fallback;
    if (node.IsNull()) return "";
    if (!node.IsScalar()) {
      fail(node, fmt::format("{} must be a single value", key));
      return fallback;
    }
    return node.Scalar();
  }

  std::optional<Time> time(const YAML::Node& map, const char* key, const std::string& zone) {
    const auto node = child(map, key);
    const auto value = text(map, key, "");
    if (value.empty()) return std::nullopt;
    std::string why;
    auto t = parse_local_time(value, zone, &why);
    if (!t && !why.empty()) fail(node, fmt::format("{} ({}) is no time: {}", key, value, why));
    else if (!t) fail(node, fmt::format("{} must be a time like 2026-10-01 00:00, not '{}'", key, value));
    return t;
  }

 private:
  const std::string& source_;
  std::string error_;
};

// The smsc, outbox, daemon, logging and metrics sections (config_daemon.cpp).
void read_daemon(Reader& r, const YAML::Node& root, DaemonSettings& d);
void read_ussd(Reader& r, const YAML::Node& node, UssdSettings& u);

}  // namespace config_detail
}  // namespace giftgate
