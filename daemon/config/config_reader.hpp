// Reading the configuration's YAML with errors that name file and line.
// Internal to the configuration loader (config.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

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
    return section(node, name, std::vector<std::string_view>(known));
  }
  bool section(const YAML::Node& node, std::string_view name,
               const std::vector<std::string_view>& known) {
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

  // The value at a defined node, as a whole number within [min, max], as
  // true/false, or as text (null: empty); false, with the error naming
  // `key`, when it is not one.
  bool number_at(const YAML::Node& node, std::string_view key, std::int64_t min,
                 std::int64_t max, std::int64_t& v) {
    if (!node.IsScalar() || !YAML::convert<std::int64_t>::decode(node, v)) {
      fail(node, fmt::format("{} must be a whole number", key));
      return false;
    }
    if (v < min || v > max) {
      fail(node, fmt::format("{} must be between {} and {}", key, min, max));
      return false;
    }
    return true;
  }
  bool flag_at(const YAML::Node& node, std::string_view key, bool& v) {
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      fail(node, fmt::format("{} must be true or false", key));
      return false;
    }
    return true;
  }
  bool text_at(const YAML::Node& node, std::string_view key, std::string& v) {
    if (node.IsNull()) {
      v.clear();
      return true;
    }
    if (!node.IsScalar()) {
      fail(node, fmt::format("{} must be a single value", key));
      return false;
    }
    v = node.Scalar();
    return true;
  }

  // A mapping's value for key, or fallback when it has none (or is wrong).
  std::int64_t integer(const YAML::Node& map, const char* key, std::int64_t fallback,
                       std::int64_t min, std::int64_t max) {
    const auto node = child(map, key);
    std::int64_t v = fallback;
    return node && number_at(node, key, min, max, v) ? v : fallback;
  }
  std::string text(const YAML::Node& map, const char* key, std::string fallback) {
    const auto node = child(map, key);
    std::string v;
    return node && text_at(node, key, v) ? v : fallback;
  }

 private:
  const std::string& source_;
  std::string error_;
};

}  // namespace config_detail
}  // namespace giftgate
