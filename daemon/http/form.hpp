// What HTML forms, query strings and cookies send, decoded: the parts of a
// request the API and the console read beyond its path and body.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http/server.hpp"

namespace giftgate::http {

// %XX decoded (and + as a space in a query or form); nullopt for a broken
// escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Every byte but unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX.
std::string percent_encode(std::string_view text);

// "a=1&b=x+y" (a query string or an application/x-www-form-urlencoded
// body) as names and values, decoded; nullopt for a broken escape. A name
// given twice keeps its first value.
std::optional<std::map<std::string, std::string>> parse_urlencoded(std::string_view text);

// A request's target, read: its path, the path's segments and the query's
// fields, each decoded.
struct Target {
  std::string path;                            // as sent, without the query
  std::vector<std::string> segments;           // "/v1/vouchers/AB%31" -> {"v1", "vouchers", "AB1"}
  std::map<std::string, std::string> query;
};
// nullopt when the target is not a path or has a broken escape.
std::optional<Target> parse_target(std::string_view target);

// Whether `segments` fit `pattern` ("/v1/vouchers/{code}"): the same number
// of segments, each literal one equal, each {parameter} non-empty and put
// into *params.
bool match_path(std::string_view pattern, const std::vector<std::string>& segments,
                std::map<std::string, std::string>* params);

// The value of cookie `name` in the request's Cookie headers, or empty.
std::string cookie(const Request& request, std::string_view name);

}  // namespace giftgate::http
