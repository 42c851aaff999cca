// What the API's route handlers share (api.cpp, api_routes.cpp): the
// request being answered, its key, and reading a JSON body strictly.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/gateway/api.hpp"

namespace giftgate {

enum class FieldType { string, integer, boolean, array };

// A field a JSON object may have.
struct Field {
  std::string_view name;
  FieldType type;
  bool required = true;
};

// Why `object` is not an object of exactly these fields (an unknown field,
// a wrong type, a required one missing), naming it as `where`; nullopt: it is.
std::optional<std::string> check_object(const nlohmann::json& object,
                                        std::initializer_list<Field> fields, std::string_view where);

// `body` as the answer, JSON.
http::Response json_response(unsigned status, const nlohmann::json& body);

struct Api::Call {
  explicit Call(const http::Request& r) : request(r) {}
  const http::Request& request;
  const ApiRoute* route = nullptr;
  std::map<std::string, std::string> params;  // the path's {parameters}, decoded
  std::map<std::string, std::string> query_;   // decoded
  nlohmann::json body;                         // after read_body
  std::optional<ApiKey> key;
  Actor actor{"api", ""};
  Time now{};
  std::string language = "en";  // of error messages: Accept-Language zh, else en
  std::optional<http::Response> failure;  // set by read_body and the like

  // Reads the body as an object of exactly these fields; false (failure
  // set, 400) when it is not.
  bool read_body(std::initializer_list<Field> fields);
  // A string field of the body, empty when absent.
  std::string text(const std::string& name) const;
  std::string_view query(std::string_view name) const;
  std::string_view param(const std::string& name) const { return params.at(name); }
  void fail(http::Response response);
};

}  // namespace giftgate
