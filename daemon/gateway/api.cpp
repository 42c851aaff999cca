// The API's frame: the routes table, reading a request (path, query, JSON
// body), the key and its role, the rate per key, and the answer's form.
// What each route does is in api_routes.cpp.
#include "daemon/gateway/api.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "daemon/campaign/table.hpp"
#include "daemon/gateway/api_call.hpp"
#include "daemon/http/form.hpp"

namespace giftgate {

const std::vector<ApiRoute>& api_routes() {
  using R = ApiRole;
  static const std::vector<ApiRoute> routes = {
      {"GET", "/v1/health", std::nullopt, "Whether the API answers (no key needed)."},
      {"POST", "/v1/verifications", R::merchant,
       "Verify a voucher code at the key's merchant: used once, the member told by SMS."},
      {"GET", "/v1/verifications", R::merchant,
       "The vouchers the key's merchant verified on a day (settlement)."},
      {"GET", "/v1/members/{msisdn}", R::desk,
       "A member's whole record: balance, ledger, vouchers, history, messages and receipts."},
      {"GET", "/v1/vouchers/{code}", R::desk, "A voucher's facts and timeline."},
      {"POST", "/v1/vouchers/{code}/resend", R::desk, "Send the voucher's SMS again."},
      {"POST", "/v1/vouchers/{code}/void", R::desk,
       "Void an unused voucher, its points refunded unless refund is false."},
      {"POST", "/v1/vouchers/{code}/reinstate", R::desk, "Make a used voucher usable again."},
      {"POST", "/v1/members/{msisdn}/redemptions", R::desk,
       "Redeem points for a voucher on the member's behalf."},
      {"POST", "/v1/points/accruals", R::points,
       "Credit a batch of accruals, each once by its id."},
      {"GET", "/v1/points/redemptions", R::points,
       "The redemption feed after a cursor: deductions and refunds."},
      {"POST", "/v1/web/codes", R::web, "Send a sign-in code by SMS to a member's number."},
      {"POST", "/v1/web/tokens", R::web, "Exchange a sign-in code for a member token."},
      {"GET", "/v1/web/me", R::web, "The signed-in member's balance and tiers."},
      {"GET", "/v1/web/me/vouchers", R::web, "The signed-in member's vouchers."},
      {"POST", "/v1/web/me/redemptions", R::web,
       "Redeem points for a voucher (Idempotency-Key: one voucher per key)."},
  };
  return routes;
}

namespace {

using nlohmann::json;

std::string_view type_name(FieldType type) {
  switch (type) {
    case FieldType::string: return "a string";
    case FieldType::integer: return "a whole number";
    case FieldType::boolean: return "true or false";
    case FieldType::array: return "an array";
  }
  return "?";
}

bool has_type(const json& value, FieldType type) {
  switch (type) {
    case FieldType::string: return value.is_string();
    case FieldType::integer: return value.is_number_integer();
    case FieldType::boolean: return value.is_boolean();
    case FieldType::array: return value.is_array();
  }
  return false;
}

}  // namespace

std::string_view Api::Call::query(std::string_view name) const {
  const auto it = query_.find(std::string(name));
  return it == query_.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<std::string> check_object(const json& object, std::initializer_list<Field> fields,
                                        std::string_view where) {
  if (!object.is_object()) return fmt::format("{} must be a JSON object", where);
  for (const auto& [key, value] : object.items()) {
    const auto known = std::find_if(fields.begin(), fields.end(),
                                    [&](const Field& f) { return f.name == key; });
    if (known == fields.end())
      return fmt::format("unknown field '{}' in {}", escape_text(key, Escaping::json), where);
    if (!has_type(value, known->type))
      return fmt::format("field '{}' in {} must be {}", key, where, type_name(known->type));
  }
  for (const auto& f : fields)
    if (f.required && !object.contains(f.name))
      return fmt::format("field '{}' is missing from {}", f.name, where);
  return std::nullopt;
}

bool Api::Call::read_body(std::initializer_list<Field> fields) {
  // nlohmann's parser takes any UTF-8 (and refuses what is not); a number
  // too big for 64 bits is parsed as a float and fails the type check.
  body = json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    fail(http::error_response(400, "malformed_json", "the body is not JSON"));
    return false;
  }
  if (const auto why = check_object(body, fields, "the body")) {
    fail(http::error_response(400, "invalid_field", *why));
    return false;
  }
  return true;
}

void Api::Call::fail(http::Response response) { failure = std::move(response); }

std::string Api::Call::text(const std::string& name) const {
  return body.contains(name) ? body[name].get<std::string>() : std::string();
}

Api::Api(db::Database& db, const Config& config, Service& service, Outbox& outbox,
         std::shared_ptr<const Templates> templates, log::Logger log)
    : db_(db),
      config_(config),
      service_(service),
      outbox_(outbox),
      templates_(std::move(templates)),
      log_(std::move(log)) {}

http::Response json_response(unsigned status, const json& body) {
  http::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http::Response Api::refusal(const Call& call, unsigned status, std::string_view code,
                            std::string_view message, const TemplateValues& values) const {
  const std::string text = templates_->has(message)
                               ? templates_->render(message, call.language, values)
                               : std::string(message);
  return http::error_response(status, code, text);
}

http::Response Api::database_failed(const Call& call, std::string_view what) {
  log_.error("api_database_failed", {{"route", call.route->path}, {"error", std::string(what)}});
  return http::error_response(503, "busy",
                              "the database is busy or refused; nothing was done: try again");
}

std::optional<std::int64_t> Api::over_rate(const std::string& who,
                                           std::chrono::steady_clock::time_point now) {
  const double rate = std::max(1, config_.daemon.api.key_rate);
  const double burst = std::max(1, config_.daemon.api.key_burst);
  auto [it, fresh] = buckets_.try_emplace(who, Bucket{burst, now});
  auto& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst, b.tokens + std::max(0.0, elapsed) * rate);
    b.at = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  // Buckets of callers long gone would pile up: a full one is forgotten.
  if (buckets_.size() > 10000)
    std::erase_if(buckets_, [&](const auto& entry) {
      return entry.second.tokens + std::chrono::duration<double>(now - entry.second.at).count() *
                                       rate >= burst;
    });
  return static_cast<std::int64_t>(std::ceil((1 - b.tokens) / rate));
}

http::Response Api::handle(const http::Request& request, Time now,
                           std::chrono::steady_clock::time_point steady) {
  Call call(request);
  call.now = now;
  const auto lang = request.header("accept-language");
  call.language = lang.starts_with("zh") ? "zh" : "en";

  const auto answered = [&](http::Response response) {
    const std::string route = call.route ? call.route->method + " " + call.route->path : "unknown";
    ++counts_[{route, response.status}];
    log_.debug("api_request", {{"route", route},
                               {"status", response.status},
                               {"key", call.key ? call.key->name : std::string("-")}});
    return response;
  };

  // The path and query, decoded.
  auto target = http::parse_target(request.target);
  if (!target)
    return answered(http::error_response(400, "bad_request", "not a path, or a broken %-escape"));
  call.query_ = std::move(target->query);
  const auto& segments = target->segments;

  // The route: a known path with another method is 405.
  bool path_known = false;
  for (const auto& route : api_routes()) {
    std::map<std::string, std::string> params;
    if (!http::match_path(route.path, segments, &params)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    call.route = &route;
    call.params = std::move(params);
    break;
  }
  if (!call.route) {
    if (path_known) {
      auto r = http::error_response(405, "method_not_allowed", "this path takes another method");
      return answered(std::move(r));
    }
    return answered(http::error_response(404, "no_such_route", "no such route"));
  }

  static const std::map<std::string_view, Handler> handlers = {
      {"GET /v1/health", &Api::health},
      {"POST /v1/verifications", &Api::verify},
      {"GET /v1/verifications", &Api::verifications},
      {"GET /v1/members/{msisdn}", &Api::member},
      {"GET /v1/vouchers/{code}", &Api::voucher},
      {"POST /v1/vouchers/{code}/resend", &Api::resend},
      {"POST /v1/vouchers/{code}/void", &Api::void_voucher},
      {"POST /v1/vouchers/{code}/reinstate", &Api::reinstate},
      {"POST /v1/members/{msisdn}/redemptions", &Api::redeem_for_member},
      {"POST /v1/points/accruals", &Api::accruals},
      {"GET /v1/points/redemptions", &Api::feed},
      {"POST /v1/web/codes", &Api::web_code},
      {"POST /v1/web/tokens", &Api::web_token},
      {"GET /v1/web/me", &Api::web_me},
      {"GET /v1/web/me/vouchers", &Api::web_vouchers},
      {"POST /v1/web/me/redemptions", &Api::web_redeem},
  };
  const auto handler = handlers.find(call.route->method + " " + call.route->path);
  if (handler == handlers.end())  // a route in the table with no handler: a bug, said so
    return answered(http::error_response(500, "internal", "route without a handler"));
  if (!call.route->role) {
    // A route that needs no key (health) is paced by the caller's address,
    // at a key's rate: each call still goes through the gateway's thread.
    if (const auto wait = over_rate("open " + request.client_address, steady)) {
      auto r = http::error_response(429, "too_many_requests", "too many requests; slow down");
      r.headers.emplace_back("Retry-After", std::to_string(*wait));
      return answered(std::move(r));
    }
    return answered((this->*handler->second)(call));
  }

  // The key. A caller with no valid key is paced by its address, so that
  // guessing keys costs as much as any other flood.
  const std::string_view auth = request.header("authorization");
  const bool bearer = auth.size() > 7 && auth.substr(0, 7) == "Bearer ";
  const auto refuse_key = [&](std::string_view code, std::string_view message) {
    if (const auto wait = over_rate("address " + request.client_address, steady)) {
      auto r = http::error_response(429, "too_many_requests", "too many requests; slow down");
      r.headers.emplace_back("Retry-After", std::to_string(*wait));
      return answered(std::move(r));
    }
    log_.info("api_key_refused", {{"address", request.client_address}, {"reason", std::string(code)}});
    auto r = http::error_response(401, code, message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return answered(std::move(r));
  };
  if (!bearer) return refuse_key("no_key", "an API key is needed: Authorization: Bearer ggk_...");
  ApiKeys keys(db_);
  ApiKey key;
  db::Status status;
  switch (keys.authenticate(auth.substr(7), &key, &status)) {
    case ApiKeys::Check::ok: break;
    case ApiKeys::Check::unknown: return refuse_key("bad_key", "the API key is not known");
    case ApiKeys::Check::revoked: return refuse_key("revoked_key", "the API key was revoked");
    case ApiKeys::Check::failed: return answered(database_failed(call, status.message));
  }
  call.key = key;
  if (const auto wait = over_rate(fmt::format("key {}", key.id), steady)) {
    auto r = http::error_response(
        429, "too_many_requests",
        fmt::format("more than {} requests a second on this key", config_.daemon.api.key_rate));
    r.headers.emplace_back("Retry-After", std::to_string(*wait));
    return answered(std::move(r));
  }
  if (key.role != *call.route->role)
    return answered(http::error_response(
        403, "forbidden",
        fmt::format("a {} key may not do this: it needs a {} key", role_name(key.role),
                    role_name(*call.route->role))));
  // last_used_at, written at most once a minute per key: a read stays a read.
  auto& touched = touched_[key.id];
  if (now - touched >= std::chrono::minutes(1)) {
    if (keys.touch(key.id, now).ok()) touched = now;
  }
  // Who did it, in the history: the key's name, and the desk's agent.
  call.actor = Actor{"api", key.name};
  return answered((this->*handler->second)(call));
}

std::string Api::metrics_text() const {
  std::string out =
      "# HELP giftgate_api_requests_total API requests answered, by route and status\n"
      "# TYPE giftgate_api_requests_total counter\n";
  for (const auto& [what, n] : counts_)
    out += fmt::format("giftgate_api_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       what.first, what.second, n);
  return out;
}

}  // namespace giftgate
