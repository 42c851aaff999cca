// The shipped OpenAPI document (man/giftgate-api.openapi.yaml) and the
// synopsis of giftgate-api(7) against the routes the API really serves
// (api_routes()): the routes are one fact written in the code and again for
// integrators, so this test compares them, and checks the document keeps the
// API's own rules (one error form, a key on every route but health, no field
// a handler does not take).
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/gateway/api.hpp"

using namespace giftgate;

namespace {

const std::string kDocument = GIFTGATE_SOURCE_DIR "/man/giftgate-api.openapi.yaml";

const YAML::Node& document() {
  static const YAML::Node doc = YAML::LoadFile(kDocument);
  return doc;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

// A node with "$ref: '#/a/b'" replaced by what it names (followed until it
// names no other); an undefined node when the reference leads nowhere.
// Nodes are rebound with reset(): yaml-cpp's operator= would write through
// to the document.
YAML::Node resolve(const YAML::Node& given) {
  YAML::Node node;
  node.reset(given);
  for (int hops = 0; hops < 10; ++hops) {
    const YAML::Node& here = node;
    if (!here.IsMap() || !here["$ref"]) break;
    const auto ref = here["$ref"].as<std::string>();
    if (!ref.starts_with("#/")) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node at;
    at.reset(document());
    std::size_t from = 2;
    while (true) {
      const auto slash = ref.find('/', from);
      const auto name = ref.substr(from, slash == std::string::npos ? std::string::npos : slash - from);
      const YAML::Node& step = at;
      if (!step.IsMap() || !step[name]) return YAML::Node(YAML::NodeType::Undefined);
      at.reset(step[name]);
      if (slash == std::string::npos) break;
      from = slash + 1;
    }
    node.reset(at);
  }
  return node;
}

// The operation of a route in the document, or an undefined node.
YAML::Node operation_of(const std::string& method, const std::string& path) {
  const YAML::Node& paths = document()["paths"];
  if (!paths.IsMap() || !paths[path] || !paths[path].IsMap() || !paths[path][method])
    return YAML::Node(YAML::NodeType::Undefined);
  return paths[path][method];
}

bool is_error_schema_ref(const YAML::Node& schema) {
  return schema.IsMap() && schema["$ref"] &&
         schema["$ref"].as<std::string>() == "#/components/schemas/Error";
}

// Whether a response's JSON body is the one error form: the Error schema,
// or allOf starting with it (the route's own codes narrowed after).
bool answers_error_form(const YAML::Node& response) {
  const auto r = resolve(response);
  if (!r.IsMap() || !r["content"] || !r["content"]["application/json"]) return false;
  const auto schema = r["content"]["application/json"]["schema"];
  if (!schema) return false;
  if (is_error_schema_ref(schema)) return true;
  return schema["allOf"] && schema["allOf"].IsSequence() && schema["allOf"].size() >= 1 &&
         is_error_schema_ref(schema["allOf"][0]);
}

struct Operation {
  std::string method;  // upper case
  std::string path;
  YAML::Node node;
};

std::vector<Operation> operations() {
  static const std::set<std::string> kMethods = {"get", "put", "post", "delete",
                                                 "options", "head", "patch", "trace"};
  std::vector<Operation> out;
  for (const auto& path : document()["paths"]) {
    for (const auto& op : path.second) {
      const auto method = op.first.as<std::string>();
      if (kMethods.count(method))
        out.push_back({upper(method), path.first.as<std::string>(), op.second});
    }
  }
  return out;
}

std::string role_of(const ApiRoute& route) {
  return route.role ? std::string(role_name(*route.role)) : std::string("none");
}

// Every object schema in `schema` (through properties and items) names its
// fields and takes no others; `where` says which one did not.
void check_closed(const YAML::Node& given, const std::string& where) {
  const auto schema = resolve(given);
  if (!schema.IsMap()) return;
  if (schema["type"] && schema["type"].as<std::string>() == "object") {
    INFO(where);
    CHECK(schema["additionalProperties"]);
    if (schema["additionalProperties"]) CHECK_FALSE(schema["additionalProperties"].as<bool>());
    CHECK(schema["properties"]);
  }
  if (schema["properties"])
    for (const auto& p : schema["properties"])
      check_closed(p.second, where + "." + p.first.as<std::string>());
  if (schema["items"]) check_closed(schema["items"], where + "[]");
}

}  // namespace

TEST_CASE("openapi: the document is OpenAPI 3.0") {
  REQUIRE(document()["openapi"]);
  CHECK(document()["openapi"].as<std::string>().starts_with("3.0."));
  CHECK(document()["components"]["schemas"]["Error"]);
  const auto bearer = document()["components"]["securitySchemes"]["apiKey"];
  REQUIRE(bearer);
  CHECK(bearer["type"].as<std::string>() == "http");
  CHECK(bearer["scheme"].as<std::string>() == "bearer");
}

TEST_CASE("openapi: its operations are exactly the routes the API serves") {
  std::set<std::pair<std::string, std::string>> served, documented;
  for (const auto& route : api_routes()) served.emplace(route.method, route.path);
  for (const auto& op : operations()) documented.emplace(op.method, op.path);
  for (const auto& [method, path] : served) {
    INFO("served, not in the document: ", method, " ", path);
    CHECK(documented.count({method, path}) == 1);
  }
  for (const auto& [method, path] : documented) {
    INFO("in the document, not served: ", method, " ", path);
    CHECK(served.count({method, path}) == 1);
  }
  CHECK(served.size() == api_routes().size());  // no route twice in the table
}

TEST_CASE("openapi: each operation has its route's role and summary") {
  for (const auto& route : api_routes()) {
    INFO(route.method, " ", route.path);
    const auto op = operation_of(lower(route.method), route.path);
    REQUIRE(op);
    REQUIRE(op["x-giftgate-role"]);
    CHECK(op["x-giftgate-role"].as<std::string>() == role_of(route));
    REQUIRE(op["summary"]);
    CHECK(op["summary"].as<std::string>() == route.summary);
  }
}

TEST_CASE("openapi: every error answer is the one error form, and the frame's are there") {
  for (const auto& route : api_routes()) {
    INFO(route.method, " ", route.path);
    const auto op = operation_of(lower(route.method), route.path);
    REQUIRE(op);
    REQUIRE(op["responses"]);
    int errors = 0;
    for (const auto& r : op["responses"]) {
      const auto status = r.first.as<std::string>();
      if (status.starts_with('4') || status.starts_with('5')) {
        INFO("status ", status);
        CHECK(answers_error_form(r.second));
        ++errors;
      }
    }
    CHECK(errors >= 1);
    CHECK(op["responses"]["400"]);  // a target with a broken escape, on any route
    CHECK(op["responses"]["503"]);  // the database busy, giftgated stopping
    if (route.role) {
      // A key is read, paced and its role checked on every keyed route.
      for (const char* status : {"401", "403", "429"}) {
        INFO("status ", status);
        CHECK(op["responses"][status]);
      }
      const bool keyless = op["security"] && op["security"].size() == 0;
      CHECK_FALSE(keyless);
    } else {
      CHECK_FALSE(op["responses"]["401"]);
      REQUIRE(op["security"]);
      CHECK(op["security"].size() == 0);
    }
    // The website's member routes need the member's token beside the key.
    if (route.path.starts_with("/v1/web/me")) {
      REQUIRE(op["security"]);
      bool token = false;
      for (const auto& requirement : op["security"])
        token = token || (requirement["apiKey"] && requirement["memberToken"]);
      CHECK(token);
    }
  }
}

TEST_CASE("openapi: bodies take only their fields, and path parameters are declared") {
  for (const auto& route : api_routes()) {
    INFO(route.method, " ", route.path);
    const auto op = operation_of(lower(route.method), route.path);
    REQUIRE(op);
    // Every POST handler reads a JSON body; no GET does.
    if (route.method == "POST") {
      const auto body = resolve(op["requestBody"]);
      REQUIRE(body.IsMap());
      CHECK(body["required"].as<bool>());
      const auto schema = body["content"]["application/json"]["schema"];
      REQUIRE(schema);
      check_closed(schema, "requestBody");
      CHECK(op["responses"]["413"]);
    } else {
      CHECK_FALSE(op["requestBody"]);
    }
    std::set<std::string> in_path, declared;
    for (std::size_t at = route.path.find('{'); at != std::string::npos;
         at = route.path.find('{', at + 1))
      in_path.insert(route.path.substr(at + 1, route.path.find('}', at) - at - 1));
    if (op["parameters"])
      for (const auto& p : op["parameters"]) {
        const auto param = resolve(p);
        REQUIRE(param.IsMap());
        if (param["in"].as<std::string>() == "path") {
          CHECK(param["required"].as<bool>());
          declared.insert(param["name"].as<std::string>());
        }
      }
    CHECK(in_path == declared);
  }
}

TEST_CASE("openapi: giftgate-api(7) lists every route in its synopsis, in the table's order") {
  std::ifstream in(GIFTGATE_SOURCE_DIR "/man/giftgate-api.7");
  REQUIRE(in);
  // The synopsis's lines, "METHOD PATH[?query] ROLE", between .SH SYNOPSIS's .nf and .fi.
  std::vector<std::pair<std::string, std::string>> listed;
  bool synopsis = false, filled = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(".SH")) {
      synopsis = line == ".SH SYNOPSIS";
      continue;
    }
    if (!synopsis) continue;
    if (line == ".nf") filled = true;
    else if (line == ".fi") break;
    else if (filled) {
      std::istringstream words(line);
      std::string method, path;
      words >> method >> path;
      listed.emplace_back(method, path.substr(0, path.find('?')));
    }
  }
  std::vector<std::pair<std::string, std::string>> served;
  for (const auto& route : api_routes()) served.emplace_back(route.method, route.path);
  CHECK(listed == served);
}
