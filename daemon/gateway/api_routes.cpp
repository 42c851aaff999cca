// What each route of the API does: reads its input, calls the domain (the
// same calls as the SMS, USSD and giftctl paths), and says the outcome in
// JSON. The frame (key, role, rate, errors) is api.cpp's.
#include <charconv>
#include <chrono>

#include <date/date.h>
#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/desk.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/points_exchange.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "daemon/campaign/web_login.hpp"
#include "daemon/gateway/api_call.hpp"

namespace giftgate {
namespace {

using nlohmann::json;

// A table as an array of objects: the column names as keys, numbers where
// the column is numeric.
json table_json(const Table& table) {
  json rows = json::array();
  for (const auto& row : table.rows) {
    json object = json::object();
    for (std::size_t i = 0; i < table.columns.size() && i < row.size(); ++i) {
      const auto& value = row[i];
      if (table.numeric[i] && !value.empty()) {
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec == std::errc() && end == value.data() + value.size()) {
          object[table.columns[i]] = n;
          continue;
        }
      }
      object[table.columns[i]] = value;
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

// A name the API is given (an agent, an address): 1 to `most` printable bytes.
bool printable(const std::string& text, std::size_t most = 200) {
  return !text.empty() && text.size() <= most && !has_unprintable(text);
}

http::Response invalid(std::string_view message) {
  return http::error_response(400, "invalid_field", message);
}

}  // namespace

// --- none ------------------------------------------------------------------

http::Response Api::health(Call&) { return json_response(200, {{"status", "ok"}}); }

// --- merchant --------------------------------------------------------------

http::Response Api::verify(Call& call) {
  if (!call.read_body({{"code", FieldType::string}})) return *call.failure;
  const std::string typed = call.text("code");
  const auto v = service_.verify_at_terminal(call.key->merchant_id, call.key->name, typed,
                                             call.actor, call.now);
  using S = Verification::Status;
  const std::string shown = v.code.empty() ? typed : v.code;
  switch (v.status) {
    case S::used:
      return json_response(200, {{"result", "used"},
                                 {"code", v.code},
                                 {"tier", v.tier},
                                 {"value", v.face_value},
                                 {"member", mask_msisdn(v.member_msisdn)},
                                 {"used_at", v.used_at}});
    case S::bad_format: return refusal(call, 422, "bad_format", "verify_bad_format");
    case S::bad_check_digit:
      return refusal(call, 422, "bad_check_digit", "verify_bad_check_digit", {{"code", shown}});
    // As by SMS: a code of another city is answered as one that does not
    // exist, so a guesser does not learn that it hit a live code.
    case S::unknown_code:
    case S::wrong_city:
      return refusal(call, 404, "unknown_code", "verify_unknown", {{"code", shown}});
    case S::already_used:
      return refusal(call, 409, "already_used", "verify_already_used",
                     {{"code", shown}, {"time", service_.local_time(v.used_at)}});
    case S::voided: return refusal(call, 409, "voided", "verify_voided", {{"code", shown}});
    case S::expired: return refusal(call, 409, "expired", "verify_expired", {{"code", shown}});
    case S::locked_out: {
      auto r = refusal(call, 409, "locked_out", "verify_locked",
                       {{"until", service_.local_time(v.locked_until)}});
      if (const auto until = parse_iso_time(v.locked_until))
        r.headers.emplace_back(
            "Retry-After",
            std::to_string(std::max<std::int64_t>(1, (*until - call.now).count())));
      return r;
    }
    case S::merchant_disabled:
      return refusal(call, 409, "merchant_disabled", "verify_merchant_disabled");
    case S::not_a_merchant:
      return http::error_response(403, "not_a_merchant", "the key's merchant is not registered");
    case S::failed: break;
  }
  return database_failed(call, v.error);
}

http::Response Api::verifications(Call& call) {
  // A day in the campaign's zone: today unless ?date=YYYY-MM-DD.
  std::string day(call.query("date"));
  if (day.empty()) day = format_local_time(config_.time_zone, call.now).substr(0, 10);
  int y = 0;
  unsigned m = 0, d = 0;
  const bool digits = day.size() == 10 && day[4] == '-' && day[7] == '-' &&
                      std::from_chars(day.data(), day.data() + 4, y).ptr == day.data() + 4 &&
                      std::from_chars(day.data() + 5, day.data() + 7, m).ptr == day.data() + 7 &&
                      std::from_chars(day.data() + 8, day.data() + 10, d).ptr == day.data() + 10;
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!digits || !ymd.ok()) return invalid("date must be a day as YYYY-MM-DD");
  const auto next = date::year_month_day(date::sys_days(ymd) + date::days(1));
  const auto from = parse_local_time(day, config_.time_zone);
  const auto to = parse_local_time(date::format("%F", next), config_.time_zone);
  if (!from || !to) return invalid("date must be a day as YYYY-MM-DD");
  Vouchers vouchers(db_, config_.campaign);
  const auto listed = vouchers.verifications_of(call.key->merchant_id, *from, *to);
  if (!listed) return database_failed(call, vouchers.last_error());
  json items = json::array();
  std::int64_t total = 0;
  for (const auto& v : *listed) {
    items.push_back({{"code", v.code},
                     {"tier", v.tier},
                     {"value", v.face_value},
                     {"used_at", v.used_at},
                     {"member", v.member}});
    total += v.face_value;
  }
  return json_response(200, {{"merchant", call.key->merchant_id},
                             {"date", day},
                             {"count", listed->size()},
                             {"total_value", total},
                             {"verifications", std::move(items)}});
}

// --- desk ------------------------------------------------------------------

namespace {

// The member named by the path, or the answer that says why not.
std::optional<Member> path_member(db::Database& db, const Config& config, Api::Call& call,
                                  std::string* error) {
  const auto number = normalize_msisdn(call.param("msisdn"), config.default_country);
  if (!number) {
    call.fail(http::error_response(400, "invalid_number", "not a phone number"));
    return std::nullopt;
  }
  db::Status found;
  auto member = Ledger(db).find_member(*number, &found);
  if (!found.ok()) {
    *error = found.message;
    return std::nullopt;
  }
  if (!member) call.fail(http::error_response(404, "unknown_member", "no member with that number"));
  return member;
}

// The voucher code named by the path, canonical, or the answer that says why not.
std::optional<std::string> path_code(Api::Call& call) {
  std::string code;
  switch (check_voucher_code(call.param("code"), &code)) {
    case CodeCheck::ok: return code;
    case CodeCheck::bad_format:
      call.fail(http::error_response(400, "bad_format", "not a voucher code (two letters, eight digits)"));
      break;
    case CodeCheck::bad_check_digit:
      call.fail(http::error_response(422, "bad_check_digit", "the code's check digit is wrong: mistyped?"));
      break;
  }
  return std::nullopt;
}

// The agent and reason every desk change names; false (failure set) without them.
bool desk_change(Api::Call& call) {
  const auto agent = call.text("agent"), reason = call.text("reason");
  if (!printable(agent, 64)) {
    call.fail(invalid("agent must be the agent's name, 1 to 64 printable characters"));
    return false;
  }
  // The desk's own rule (Desk checks it again, for every channel).
  if (!good_desk_reason(reason)) {
    call.fail(invalid("reason must be 1 to 200 printable characters"));
    return false;
  }
  call.actor.who = fmt::format("{}/{}", call.key->name, agent);
  return true;
}

}  // namespace

http::Response Api::member(Call& call) {
  std::string error;
  const auto m = path_member(db_, config_, call, &error);
  if (!m) return call.failure ? *call.failure : database_failed(call, error);
  const std::pair<const char*, std::optional<Table>> sections[] = {
      {"ledger", member_ledger(db_, m->id, &error)},
      {"vouchers", member_vouchers(db_, m->id, &error)},
      {"offers", member_offers(db_, m->id, &error)},
      {"history", member_events(db_, m->id, &error)},
      {"texts", member_texts(db_, m->msisdn, &error)},
      {"messages", member_messages(db_, m->msisdn, &error)},
      {"parts", member_parts(db_, m->msisdn, &error)},
  };
  // Read whole or not at all: a record cut short is never shown as the whole.
  for (const auto& [name, table] : sections)
    if (!table) return database_failed(call, error);
  Ledger ledger(db_);
  const auto balance = ledger.balance(m->id);
  if (!balance) return database_failed(call, ledger.last_error());
  json out = {{"msisdn", m->msisdn},
              {"city", m->city},
              {"language", m->language},
              {"care_opt_out", m->care_opt_out},
              {"balance", *balance}};
  for (const auto& [name, table] : sections) out[name] = table_json(*table);
  return json_response(200, out);
}

http::Response Api::voucher(Call& call) {
  const auto code = path_code(call);
  if (!code) return *call.failure;
  std::string error;
  const auto facts = voucher_facts(db_, *code, &error);
  if (!facts) return database_failed(call, error);
  if (facts->rows.empty()) return http::error_response(404, "unknown_code", "no such voucher");
  const auto events = voucher_events(db_, *code, &error);
  if (!events) return database_failed(call, error);
  json out = table_json(*facts)[0];
  out["timeline"] = table_json(*events);
  return json_response(200, out);
}

http::Response Api::resend(Call& call) {
  if (!call.read_body({{"agent", FieldType::string}, {"reason", FieldType::string}}))
    return *call.failure;
  if (!desk_change(call)) return *call.failure;
  const auto code = path_code(call);
  if (!code) return *call.failure;
  Desk desk(db_, config_, service_, outbox_);
  const auto resent = desk.resend(*code, call.text("reason"), call.actor, call.now);
  switch (resent.status) {
    case Outbox::Resent::Status::queued: break;
    case Outbox::Resent::Status::not_found:
      return http::error_response(404, "unknown_code", "no voucher message with that code");
    case Outbox::Resent::Status::body_pruned:
      return http::error_response(409, "body_pruned",
                                  "the message's text was pruned (retention): it cannot be resent");
    case Outbox::Resent::Status::failed: return database_failed(call, resent.error);
  }
  return json_response(200, {{"result", "queued"}, {"message", resent.id}});
}

namespace {

// An operator action's outcome as an answer.
std::optional<http::Response> admin_refusal(AdminResult result, const std::string& error) {
  switch (result) {
    case AdminResult::ok: return std::nullopt;
    case AdminResult::unknown_code: return http::error_response(404, "unknown_code", "no such voucher");
    case AdminResult::wrong_state:
      return http::error_response(409, "wrong_state",
                                  "void needs an unused voucher, reinstate a used one");
    case AdminResult::invalid: return invalid("a reason is needed");
    case AdminResult::over_limit:
      return http::error_response(422, "over_limit", error);
    case AdminResult::failed: break;
  }
  http::Response failed;  // status 0: the database failed, `error` says how
  failed.status = 0;
  failed.body = error;
  return failed;
}

}  // namespace

http::Response Api::void_voucher(Call& call) {
  if (!call.read_body({{"agent", FieldType::string},
                       {"reason", FieldType::string},
                       {"refund", FieldType::boolean, false}}))
    return *call.failure;
  if (!desk_change(call)) return *call.failure;
  const auto code = path_code(call);
  if (!code) return *call.failure;
  const bool refund = !call.body.contains("refund") || call.body["refund"].get<bool>();
  Desk desk(db_, config_, service_, outbox_);
  const auto result = desk.void_voucher(*code, call.text("reason"), refund, call.actor);
  if (auto r = admin_refusal(result, desk.last_error()))
    return r->status == 0 ? database_failed(call, r->body) : *r;
  return json_response(200, {{"result", "voided"}, {"code", *code}, {"refunded", refund}});
}

http::Response Api::reinstate(Call& call) {
  if (!call.read_body({{"agent", FieldType::string}, {"reason", FieldType::string}}))
    return *call.failure;
  if (!desk_change(call)) return *call.failure;
  const auto code = path_code(call);
  if (!code) return *call.failure;
  Desk desk(db_, config_, service_, outbox_);
  const auto result = desk.reinstate(*code, call.text("reason"), call.actor);
  if (auto r = admin_refusal(result, desk.last_error()))
    return r->status == 0 ? database_failed(call, r->body) : *r;
  return json_response(200, {{"result", "reinstated"}, {"code", *code}});
}

namespace {

// An id a client gives for idempotency: 1 to 64 of [A-Za-z0-9._:-].
bool good_request_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") ==
             std::string_view::npos;
}

}  // namespace

// A redemption's outcome as an answer: the voucher, or the SMS reply's
// reason for the refusal (its text names the campaign's dates and tiers).
http::Response Api::redeemed(const Call& call, const Redemption& r) {
  const auto& campaign = config_.campaign;
  const auto refuse = [&](unsigned status, std::string_view code, TemplateValues values) {
    return refusal(call, status, code, code, values);
  };
  using S = Redemption::Status;
  switch (r.status) {
    case S::issued:
    case S::already_issued:
      return json_response(r.status == S::issued ? 201 : 200,
                           {{"result", r.status == S::issued ? "issued" : "already_issued"},
                            {"code", r.code},
                            {"tier", r.tier},
                            {"value", r.face_value},
                            {"price", r.price},
                            {"balance", r.balance},
                            {"expires_at", r.expires_at}});
    case S::insufficient_points:
      return refuse(422, "insufficient_points",
                    {{"tier", r.tier}, {"price", std::to_string(r.price)},
                     {"balance", std::to_string(r.balance)}});
    case S::out_of_stock: return refuse(409, "out_of_stock", {{"tier", r.tier}});
    case S::not_started:
      return refuse(422, "not_started", {{"start", service_.local_time(campaign.start)}});
    case S::ended: return refuse(422, "ended", {{"end", service_.local_time(campaign.end)}});
    case S::unknown_tier: {
      std::string tiers;
      for (const auto& t : campaign.tiers) tiers += (tiers.empty() ? "" : ", ") + t.name;
      return refuse(422, "unknown_tier", {{"tiers", tiers}});
    }
    case S::unknown_member:
      return http::error_response(404, "unknown_member", "no member with that number");
    case S::failed:
    case S::offered:
    case S::no_offer:
    case S::offer_expired: break;
  }
  return database_failed(call, r.error);
}


http::Response Api::redeem_for_member(Call& call) {
  if (!call.read_body({{"agent", FieldType::string},
                       {"reason", FieldType::string},
                       {"tier", FieldType::string},
                       {"request_id", FieldType::string}}))
    return *call.failure;
  if (!desk_change(call)) return *call.failure;
  if (!good_request_id(call.text("request_id")))
    return invalid("request_id must be 1 to 64 of A-Z a-z 0-9 . _ : -");
  std::string error;
  const auto m = path_member(db_, config_, call, &error);
  if (!m) return call.failure ? *call.failure : database_failed(call, error);
  Desk desk(db_, config_, service_, outbox_);
  const auto r = desk.redeem_for(
      m->msisdn, call.text("tier"),
      fmt::format("desk:{}:{}:{}", call.key->id, m->id, call.text("request_id")),
      call.text("reason"), call.actor, call.now);
  return redeemed(call, r);
}

// --- points ----------------------------------------------------------------

http::Response Api::accruals(Call& call) {
  if (!call.read_body({{"accruals", FieldType::array}})) return *call.failure;
  const auto& items = call.body["accruals"];
  constexpr std::size_t kMostPerBatch = 1000;
  if (items.empty() || items.size() > kMostPerBatch)
    return invalid(fmt::format("accruals must hold 1 to {} entries", kMostPerBatch));
  std::vector<PostedAccrual> batch;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    if (const auto why = check_object(item,
                                      {{"id", FieldType::string},
                                       {"msisdn", FieldType::string},
                                       {"points", FieldType::integer},
                                       {"reason", FieldType::string}},
                                      fmt::format("accruals[{}]", i)))
      return invalid(*why);
    PostedAccrual a;
    a.id = item["id"].get<std::string>();
    // A number that is none is the accrual's own refusal (invalid), not the batch's.
    a.msisdn = normalize_msisdn(item["msisdn"].get<std::string>(), config_.default_country)
                   .value_or(item["msisdn"].get<std::string>());
    a.points = item["points"].get<std::int64_t>();
    a.reason = item["reason"].get<std::string>();
    batch.push_back(std::move(a));
  }
  PointsExchange exchange(db_, config_.campaign.points);
  db::Status status;
  const auto outcomes = exchange.post(batch, call.actor, &status);
  if (!outcomes) return database_failed(call, status.message);
  json results = json::array();
  std::size_t credited = 0;
  for (const auto& o : *outcomes) {
    static constexpr const char* kNames[] = {"credited",       "duplicate",     "conflict",
                                             "unknown_member", "out_of_bounds", "invalid"};
    json item = {{"id", o.id}, {"status", kNames[static_cast<int>(o.status)]}};
    if (o.status == AccrualOutcome::Status::credited ||
        o.status == AccrualOutcome::Status::duplicate)
      item["balance"] = o.balance;
    if (!o.error.empty()) item["error"] = o.error;
    if (o.status == AccrualOutcome::Status::credited) ++credited;
    results.push_back(std::move(item));
  }
  return json_response(200, {{"credited", credited}, {"results", std::move(results)}});
}

http::Response Api::feed(Call& call) {
  std::int64_t after = 0, limit = 100;
  for (const auto& [name, field, most] :
       {std::tuple{"after", &after, std::int64_t{INT64_MAX}}, std::tuple{"limit", &limit, std::int64_t{1000}}}) {
    const auto text = call.query(name);
    if (text.empty()) continue;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *field);
    if (ec != std::errc() || end != text.data() + text.size() || *field < 0 || *field > most ||
        (std::string_view(name) == "limit" && *field == 0))
      return invalid(fmt::format("{} must be a whole number{}", name,
                                 std::string_view(name) == "limit" ? " from 1 to 1000" : " of 0 or more"));
  }
  PointsExchange exchange(db_, config_.campaign.points);
  db::Status status;
  const auto entries = exchange.feed(after, static_cast<std::size_t>(limit), &status);
  if (!entries) return database_failed(call, status.message);
  json items = json::array();
  for (const auto& e : *entries)
    items.push_back({{"cursor", e.cursor},
                     {"kind", e.kind},
                     {"msisdn", e.msisdn},
                     {"points", e.points},
                     {"tier", e.tier},
                     {"channel", e.channel},
                     {"at", e.at}});
  const std::int64_t next = entries->empty() ? after : entries->back().cursor;
  return json_response(200, {{"entries", std::move(items)},
                             {"next_after", next},
                             {"more", entries->size() == static_cast<std::size_t>(limit)}});
}

// --- web -------------------------------------------------------------------

namespace {

// An event of the website's sign-in in the member's history.
db::Status record_web_event(db::Database& db, const std::string& msisdn, std::string_view kind,
                            const Actor& actor, const std::string& detail) {
  db::Status found;
  const auto member = Ledger(db).find_member(msisdn, &found);
  if (!found.ok()) return found;
  return record_event(db, kind, member ? std::optional<std::int64_t>(member->id) : std::nullopt,
                      actor, detail);
}

}  // namespace

http::Response Api::web_code(Call& call) {
  if (!call.read_body({{"msisdn", FieldType::string}, {"client_address", FieldType::string}}))
    return *call.failure;
  const auto number = normalize_msisdn(call.text("msisdn"), config_.default_country);
  if (!number) return http::error_response(400, "invalid_number", "not a phone number");
  const std::string address = call.text("client_address");
  if (!printable(address, 64)) return invalid("client_address must be the user's IP address");
  WebLogin web(db_, config_.web, service_);
  const auto sent = web.send_code(*number, address, call.key->id, call.now);
  using S = WebLogin::CodeSent::Status;
  switch (sent.status) {
    case S::sent: {
      // In the member's history, as any change a channel makes (never the code).
      if (const auto e = record_web_event(db_, *number, "web_code_sent", call.actor,
                                          "sign-in code sent by SMS, asked from " + address);
          !e.ok())
        return database_failed(call, e.message);
      return json_response(202, {{"result", "sent"}, {"expires_at", sent.expires_at}});
    }
    case S::unknown_member:
      return http::error_response(404, "unknown_member", "no member with that number");
    case S::limited_number:
    case S::limited_address: {
      auto r = http::error_response(
          429, "too_many_codes",
          sent.status == S::limited_number ? "too many codes sent to this number; wait"
                                           : "too many codes asked for from this address; wait");
      r.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, sent.retry_after)));
      return r;
    }
    case S::failed: break;
  }
  return database_failed(call, sent.error);
}

http::Response Api::web_token(Call& call) {
  if (!call.read_body({{"msisdn", FieldType::string}, {"code", FieldType::string}}))
    return *call.failure;
  const auto number = normalize_msisdn(call.text("msisdn"), config_.default_country);
  if (!number) return http::error_response(400, "invalid_number", "not a phone number");
  WebLogin web(db_, config_.web, service_);
  const auto x = web.exchange(*number, call.text("code"), call.key->id, call.now);
  using S = WebLogin::Exchange::Status;
  switch (x.status) {
    case S::ok:
      if (const auto e = record_web_event(db_, *number, "web_signed_in", call.actor,
                                          "member token until " + x.expires_at);
          !e.ok())
        return database_failed(call, e.message);
      return json_response(201, {{"token", x.token}, {"expires_at", x.expires_at}});
    case S::wrong_code: {
      auto r = http::error_response(
          422, "wrong_code",
          fmt::format("the code is wrong; {} more tries before it is locked", x.attempts_left));
      return r;
    }
    case S::locked:
      return http::error_response(409, "code_locked", "too many wrong tries: ask for a new code");
    case S::expired: return http::error_response(409, "code_expired", "the code has expired: ask for a new one");
    case S::no_code: return http::error_response(404, "no_code", "no code was sent to that number");
    case S::failed: break;
  }
  return database_failed(call, x.error);
}

namespace {

// The member whose token the request carries (X-Member-Token), or the
// answer that says why not.
std::optional<Member> token_member(db::Database& db, const Config& config, Service& service,
                                   Api::Call& call, std::string* error) {
  const auto token = call.request.header("x-member-token");
  if (token.empty()) {
    call.fail(http::error_response(401, "no_member_token", "sign in first: X-Member-Token is missing"));
    return std::nullopt;
  }
  WebLogin web(db, config.web, service);
  db::Status status;
  auto member = web.member_for(token, call.key->id, call.now, &status);
  if (!status.ok()) {
    *error = status.message;
    return std::nullopt;
  }
  if (!member) call.fail(http::error_response(401, "bad_member_token", "the member token is unknown or expired"));
  return member;
}

}  // namespace

http::Response Api::web_me(Call& call) {
  std::string error;
  const auto m = token_member(db_, config_, service_, call, &error);
  if (!m) return call.failure ? *call.failure : database_failed(call, error);
  Ledger ledger(db_);
  const auto balance = ledger.balance(m->id);
  if (!balance) return database_failed(call, ledger.last_error());
  json tiers = json::array();
  for (const auto& t : config_.campaign.tiers)
    tiers.push_back({{"tier", t.name},
                     {"value", t.face_value},
                     {"price", t.price},
                     {"affordable", *balance >= t.price}});
  return json_response(200, {{"msisdn", mask_msisdn(m->msisdn)},
                             {"city", m->city},
                             {"balance", *balance},
                             {"tiers", std::move(tiers)}});
}

http::Response Api::web_vouchers(Call& call) {
  std::string error;
  const auto m = token_member(db_, config_, service_, call, &error);
  if (!m) return call.failure ? *call.failure : database_failed(call, error);
  const auto table = member_vouchers(db_, m->id, &error);
  if (!table) return database_failed(call, error);
  return json_response(200, {{"vouchers", table_json(*table)}});
}

http::Response Api::web_redeem(Call& call) {
  if (!call.read_body({{"tier", FieldType::string}})) return *call.failure;
  const std::string idempotency(call.request.header("idempotency-key"));
  if (!good_request_id(idempotency))
    return http::error_response(400, "idempotency_key_needed",
                                "Idempotency-Key must be 1 to 64 of A-Z a-z 0-9 . _ : -");
  std::string error;
  const auto m = token_member(db_, config_, service_, call, &error);
  if (!m) return call.failure ? *call.failure : database_failed(call, error);
  // The same key for the same member redeems once, however often it comes.
  const auto r = service_.redeem_for(m->msisdn, call.text("tier"),
                                     fmt::format("web:{}:{}", m->id, idempotency),
                                     Actor{"api", fmt::format("{}/member", call.key->name)}, call.now);
  return redeemed(call, r);
}

}  // namespace giftgate
