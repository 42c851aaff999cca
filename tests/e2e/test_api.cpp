// The HTTP API end to end: giftgated with the simulator as its SMSC, and
// curl as every client (a merchant's terminal, the desk, the points system,
// the website). Each role's routes, each class of error, and the rules the
// SMS channel keeps (once only, the member told) held over HTTP too.
#include <atomic>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/e2e/api_gate.hpp"

namespace giftgate::e2e {
namespace {

std::string error_code(const HttpAnswer& a) {
  const auto j = json::parse(a.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "(not an error body: " + a.body + ")";
  return j["error"]["code"].get<std::string>();
}

}  // namespace

TEST_CASE("api: a terminal verifies a code once, the member is told by SMS, settlement lists it") {
  ApiGate g;
  g.start();
  g.wait_api();
  const std::string code = g.voucher("8613800138000");
  CHECK(code_in(g.reply("8613800138000")) == code);  // the voucher's own SMS

  const auto used = g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump());
  INFO(used.body);
  REQUIRE(used.status == 200);
  const auto j = json::parse(used.body);
  CHECK(j["result"] == "used");
  CHECK(j["code"] == code);
  CHECK(j["member"].get<std::string>().find("****") != std::string::npos);
  // The member's note, as after an SMS verification.
  const auto note = g.reply("8613800138000");
  CHECK(contains(note, code));
  CHECK(contains(note, "Star KTV"));

  // Once only: the second try is the SMS's "already used", with its text.
  const auto again = g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump());
  CHECK(again.status == 409);
  CHECK(error_code(again) == "already_used");

  // The settlement of the day: this merchant's verification, none of the other's.
  const auto settle = g.call("till-1", "GET", "/v1/verifications");
  REQUIRE(settle.status == 200);
  const auto s = json::parse(settle.body);
  CHECK(s["count"] == 1);
  CHECK(s["verifications"][0]["code"] == code);
  const auto other = g.call("till-2", "GET", "/v1/verifications");
  CHECK(json::parse(other.body)["count"] == 0);
  // The history names the terminal's key.
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'voucher_used' AND channel = 'api' "
                "AND actor = 'till-1' AND voucher_code = '" + code + "'") == 1);
}

TEST_CASE("api: every class of error is JSON with a stable code, and changes nothing") {
  ApiGate g("", "  max_body_bytes: 1024\n");
  g.start();
  g.wait_api();
  // The member spends 5,000 of their 6,000 points first: 1,000 are left.
  g.voucher("8613900000001", "A", "setup");
  const auto balance = [&] {
    return g.value("SELECT SUM(delta) FROM ledger l JOIN members m ON m.id = l.member_id "
                   "WHERE m.msisdn = '8613900000001'");
  };
  const auto before = balance();

  // 401: no key, a wrong one, a revoked one (revoked while running: at once).
  auto a = g.call("", "GET", "/v1/members/13800138000");
  CHECK(a.status == 401);
  CHECK(error_code(a) == "no_key");
  CurlOptions wrong;
  wrong.headers = {{"Authorization", "Bearer ggk_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}};
  a = test::curl(g.dir, "GET", g.url("/v1/members/13800138000"), {}, wrong);
  CHECK(a.status == 401);
  CHECK(error_code(a) == "bad_key");
  // 403: a key of another role.
  a = g.call("website", "GET", "/v1/members/13800138000");
  CHECK(a.status == 403);
  CHECK(error_code(a) == "forbidden");
  // 404: an unknown member, voucher, route.
  CHECK(error_code(g.call("desk", "GET", "/v1/members/13700009999")) == "unknown_member");
  CHECK(g.call("desk", "GET", "/v1/members/13700009999").status == 404);
  CHECK(g.call("desk", "GET", "/v1/nothing").status == 404);
  // 400: malformed JSON, an unknown field, a wrong type, a missing field.
  const std::string redeem = "/v1/members/13900000001/redemptions";
  a = g.call("desk", "POST", redeem, "{\"tier\": ");
  CHECK(a.status == 400);
  CHECK(error_code(a) == "malformed_json");
  a = g.call("desk", "POST", redeem,
             R"({"agent":"li","reason":"x","tier":"A","request_id":"q1","points":5})");
  CHECK(a.status == 400);
  CHECK(contains(a.body, "unknown field 'points'"));
  a = g.call("desk", "POST", redeem, R"({"agent":"li","reason":"x","tier":7,"request_id":"q1"})");
  CHECK(a.status == 400);
  CHECK(contains(a.body, "'tier'"));
  a = g.call("desk", "POST", redeem, R"({"agent":"li","reason":"x","tier":"A"})");
  CHECK(a.status == 400);
  CHECK(contains(a.body, "request_id"));
  // 413: a body over api.max_body_bytes.
  a = g.call("desk", "POST", redeem, std::string(2000, ' ') + "{}");
  CHECK(a.status == 413);
  CHECK(error_code(a) == "body_too_large");
  // 422: a business refusal, with the SMS reply's text. The member has
  // 1,000 points; tier A costs 5,000.
  a = g.call("desk", "POST", redeem,
             R"({"agent":"li","reason":"x","tier":"A","request_id":"q2"})");
  CHECK(a.status == 422);
  CHECK(error_code(a) == "insufficient_points");
  CHECK(contains(a.body, "1000"));
  // Nothing of any of it changed the member's points.
  CHECK(balance() == before);

  // Revoked: refused from the next request on.
  {
    auto db = test::open_campaign_db(g.db_path);
    ApiKeys keys(*db);
    REQUIRE(keys.revoke("desk", "lost laptop", {"giftctl", "e2e"}, kNow) == AdminResult::ok);
  }
  a = g.call("desk", "GET", "/v1/members/13800138000");
  CHECK(a.status == 401);
  CHECK(error_code(a) == "revoked_key");
}

TEST_CASE("api: past a key's rate, 429 with Retry-After, and other keys go on") {
  ApiGate g("", "  key_rate: 1\n  key_burst: 3\n");
  g.start();
  g.wait_api();
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    const auto a = g.call("desk", "GET", "/v1/members/13800138000");
    if (a.status == 429) {
      ++limited;
      retry_after = a.header("Retry-After");
      CHECK(error_code(a) == "too_many_requests");
    } else {
      CHECK(a.status == 200);
    }
  }
  CHECK(limited >= 2);
  CHECK(!retry_after.empty());
  CHECK(std::atoi(retry_after.c_str()) >= 1);
  // Another key is not held up by the first one's flood.
  CHECK(g.call("club-points", "GET", "/v1/points/redemptions").status == 200);
  // The route that needs no key is paced by address too.
  int health_limited = 0;
  for (int i = 0; i < 6; ++i) health_limited += g.call("", "GET", "/v1/health").status == 429;
  CHECK(health_limited >= 2);
}

TEST_CASE("api: while the database is busy the answer is 503 and nothing is half done") {
  ApiGate g;
  g.edit_config("storage:\n  path: ", "storage:\n  busy_timeout_ms: 200\n  path: ");
  g.start();
  g.wait_api();
  const std::string code = g.voucher("8613800138000");
  {
    // Another writer holds the database.
    auto db = test::open_campaign_db(g.db_path);
    REQUIRE(db->exec("BEGIN IMMEDIATE").ok());
    const auto a = g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump());
    CHECK(a.status == 503);
    CHECK(error_code(a) == "busy");
    REQUIRE(db->exec("ROLLBACK").ok());
  }
  CHECK(g.value("SELECT COUNT(*) FROM vouchers WHERE code = '" + code + "' AND state = 'issued'") == 1);
  // Once it is free the same request goes through.
  const auto a = g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump());
  CHECK(a.status == 200);
}

TEST_CASE("api: the points system's accruals count once by id, and the feed pages every deduction and refund") {
  ApiGate g;
  g.start();
  g.wait_api();
  const std::string batch = json{{"accruals",
                                  {{{"id", "club-2026-12-0001"}, {"msisdn", "13900000001"},
                                    {"points", 500}, {"reason", "December bill"}},
                                   {{"id", "club-2026-12-0002"}, {"msisdn", "13700009999"},
                                    {"points", 100}, {"reason", "December bill"}}}}}
                                .dump();
  auto a = g.call("club-points", "POST", "/v1/points/accruals", batch);
  INFO(a.body);
  REQUIRE(a.status == 200);
  auto j = json::parse(a.body);
  CHECK(j["results"][0]["status"] == "credited");
  CHECK(j["results"][0]["balance"] == 6500);
  CHECK(j["results"][1]["status"] == "unknown_member");
  // The same batch again credits nothing more.
  a = g.call("club-points", "POST", "/v1/points/accruals", batch);
  j = json::parse(a.body);
  CHECK(j["results"][0]["status"] == "duplicate");
  CHECK(j["credited"] == 0);
  CHECK(g.value("SELECT COUNT(*) FROM ledger WHERE reference = 'accrual:club-2026-12-0001'") == 1);

  // Two redemptions and a void with refund, then the feed in pages of one.
  const std::string first = g.voucher("8613800138000", "B", "f1");
  g.voucher("8613900000001", "B", "f2");
  a = g.call("desk", "POST", "/v1/vouchers/" + first + "/void",
             json{{"agent", "li"}, {"reason", "member complaint"}}.dump());
  REQUIRE(a.status == 200);
  std::vector<json> entries;
  std::int64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    a = g.call("club-points", "GET", fmt::format("/v1/points/redemptions?after={}&limit=1", after));
    REQUIRE(a.status == 200);
    j = json::parse(a.body);
    if (j["entries"].empty()) break;
    entries.push_back(j["entries"][0]);
    after = j["next_after"].get<std::int64_t>();
  }
  REQUIRE(entries.size() == 3);
  CHECK(entries[0]["kind"] == "redemption");
  CHECK(entries[0]["points"].get<std::int64_t>() < 0);
  CHECK(entries[1]["kind"] == "redemption");
  CHECK(entries[2]["kind"] == "refund");
  CHECK(entries[2]["points"].get<std::int64_t>() > 0);
  // No voucher code in the feed.
  for (const auto& e : entries) CHECK(!contains(e.dump(), first));
}

TEST_CASE("api: the desk reads a member's record and a voucher's timeline, and acts with a reason") {
  ApiGate g;
  g.start();
  g.wait_api();
  const std::string code = g.voucher("8613800138000");
  g.reply("8613800138000");
  auto a = g.call("desk", "GET", "/v1/members/+86%20138%200013%208000");
  INFO(a.body);
  REQUIRE(a.status == 200);
  auto j = json::parse(a.body);
  CHECK(j["balance"].get<std::int64_t>() < 12000);
  CHECK(!j["vouchers"].empty());
  CHECK(!j["messages"].empty());
  CHECK(!j["ledger"].empty());

  a = g.call("desk", "POST", "/v1/vouchers/" + code + "/resend",
             json{{"agent", "wang"}, {"reason", "member lost the SMS"}}.dump());
  CHECK(a.status == 200);
  CHECK(code_in(g.reply("8613800138000")) == code);

  // A used voucher reinstated, then voided without refund; each names the agent.
  REQUIRE(g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump()).status == 200);
  a = g.call("desk", "POST", "/v1/vouchers/" + code + "/reinstate",
             json{{"agent", "wang"}, {"reason", "verified by mistake"}}.dump());
  CHECK(a.status == 200);
  a = g.call("desk", "POST", "/v1/vouchers/" + code + "/void",
             json{{"agent", "wang"}, {"reason", "fraud check"}, {"refund", false}}.dump());
  CHECK(a.status == 200);
  a = g.call("desk", "POST", "/v1/vouchers/" + code + "/void",
             json{{"agent", "wang"}, {"reason", "again"}}.dump());
  CHECK(a.status == 409);
  // Without an agent, no change.
  a = g.call("desk", "POST", "/v1/vouchers/" + code + "/reinstate", json{{"agent", ""}, {"reason", "x"}}.dump());
  CHECK(a.status == 400);

  a = g.call("desk", "GET", "/v1/vouchers/" + code);
  REQUIRE(a.status == 200);
  j = json::parse(a.body);
  CHECK(j["timeline"].size() >= 4);
  CHECK(contains(a.body, "desk/wang"));
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE actor = 'desk/wang' AND channel = 'api'") >= 3);
}

TEST_CASE("api: the website signs a member in by SMS code, redeems once per Idempotency-Key, and locks out guessing") {
  ApiGate g;
  g.start();
  g.wait_api();
  const std::string member = "13900000001";
  auto a = g.call("website", "POST", "/v1/web/codes",
                  json{{"msisdn", member}, {"client_address", "203.0.113.7"}}.dump());
  INFO(a.body);
  REQUIRE(a.status == 202);
  std::smatch m;
  const std::string sms = g.reply("8613900000001");
  REQUIRE(std::regex_search(sms, m, std::regex("[0-9]{6}")));
  const std::string code = m.str();

  // A wrong code counts; the right one gives a token.
  const std::string wrong = code == "000000" ? "111111" : "000000";
  a = g.call("website", "POST", "/v1/web/tokens", json{{"msisdn", member}, {"code", wrong}}.dump());
  CHECK(a.status == 422);
  a = g.call("website", "POST", "/v1/web/tokens", json{{"msisdn", member}, {"code", code}}.dump());
  REQUIRE(a.status == 201);
  const std::string token = json::parse(a.body)["token"];

  a = g.call("website", "GET", "/v1/web/me", {}, {{"X-Member-Token", token}});
  REQUIRE(a.status == 200);
  CHECK(json::parse(a.body)["balance"] == 6000);
  // Without the token, or with another key's token use: refused.
  CHECK(g.call("website", "GET", "/v1/web/me").status == 401);

  // A double click: one voucher, one deduction, one SMS.
  for (int i = 0; i < 2; ++i) {
    a = g.call("website", "POST", "/v1/web/me/redemptions", json{{"tier", "B"}}.dump(),
               {{"X-Member-Token", token}, {"Idempotency-Key", "click-1"}});
    CHECK((a.status == 201 || a.status == 200));
  }
  CHECK(g.value("SELECT COUNT(*) FROM vouchers v JOIN members m ON m.id = v.member_id "
                "WHERE m.msisdn = '8613900000001'") == 1);
  a = g.call("website", "GET", "/v1/web/me/vouchers", {}, {{"X-Member-Token", token}});
  CHECK(json::parse(a.body)["vouchers"].size() == 1);

  // Guessing: a new code, then wrong tries until it is locked.
  a = g.call("website", "POST", "/v1/web/codes",
             json{{"msisdn", member}, {"client_address", "203.0.113.7"}}.dump());
  REQUIRE(a.status == 202);
  const std::string second = g.reply("8613900000001");
  REQUIRE(std::regex_search(second, m, std::regex("[0-9]{6}")));
  const std::string fresh = m.str();
  const std::string guess = fresh == "123456" ? "654321" : "123456";
  int locked = 0;
  for (int i = 0; i < 8; ++i) {
    a = g.call("website", "POST", "/v1/web/tokens", json{{"msisdn", member}, {"code", guess}}.dump());
    if (a.status == 409 && error_code(a) == "code_locked") ++locked;
  }
  CHECK(locked > 0);
  // Locked: even the right code no longer works.
  a = g.call("website", "POST", "/v1/web/tokens", json{{"msisdn", member}, {"code", fresh}}.dump());
  CHECK(a.status == 409);

  // The history has the sign-in, by the website's key, never the code.
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'web_code_sent' AND actor = 'website'") == 2);
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'web_signed_in' AND actor = 'website'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE detail LIKE '%" + code + "%'") == 0);

  // Neither code, nor the token, nor the whole number is in the log.
  const std::string log = g.daemon->log();
  CHECK(!contains(log, code));
  CHECK(!contains(log, fresh));
  CHECK(!contains(log, token));
  CHECK(!contains(log, "8613900000001"));
}

TEST_CASE("api: a terminal and an SMS merchant verifying the same code at once: exactly one wins") {
  ApiGate g;
  g.start();
  g.wait_api();
  for (int round = 0; round < 5; ++round) {
    const std::string code = g.voucher("8613800138000", "C", fmt::format("race-{}", round));
    // The SMS merchant and the terminal (merchant bj-1 both) at the same moment.
    std::atomic<int> http_status{0};
    std::thread terminal([&] {
      http_status = g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump()).status;
    });
    g.mo("13911111111", "HX " + code);
    terminal.join();
    const std::string sms = g.reply("8613911111111");
    // The voucher is used once, by one of them.
    CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'voucher_used' AND voucher_code = '" +
                  code + "'") == 1);
    const bool http_won = http_status == 200;
    CHECK((http_won || http_status == 409));
    // Whoever lost was told "already used".
    CHECK(contains(sms, "核销成功") == !http_won);
  }
}

TEST_CASE("api: over TLS with the shipped certificate script, and plain HTTP off loopback refused at start") {
  test::TempDir cert_dir;
  const std::string certs = cert_dir.path().string();
  const std::string script = std::string(GIFTGATE_SOURCE_DIR) + "/scripts/api-cert.sh";
  REQUIRE(std::system((script + " " + certs + " >/dev/null 2>&1").c_str()) == 0);
  ApiGate g("", fmt::format("  tls_certificate: {}/server.pem\n  tls_key: {}/server.key\n",
                            certs, certs));
  g.start();
  const std::string url = fmt::format("https://127.0.0.1:{}/v1/health", g.port);
  HttpAnswer a;
  for (int i = 0; i < 100 && a.status != 200; ++i) {
    if (i > 0) std::this_thread::sleep_for(50ms);
    CurlOptions o;
    o.cacert = certs + "/ca.pem";
    a = curl(g.dir, "GET", url, {}, o);
  }
  CHECK(a.status == 200);
  // Without the CA the certificate is not trusted.
  a = curl(g.dir, "GET", url);
  CHECK(a.status == 0);
  // Plain HTTP to the TLS port gets nothing useful.
  a = curl(g.dir, "GET", fmt::format("http://127.0.0.1:{}/v1/health", g.port));
  CHECK(a.status != 200);

  // A configuration with plain HTTP on every address does not start.
  ApiGate plain;
  plain.edit_config("listen: 127.0.0.1\n  port:", "listen: 0.0.0.0\n  port:");
  plain.daemon = std::make_unique<test::DaemonProcess>(
      GIFTGATE_GIFTGATED, std::vector<std::string>{"--config", plain.config_path},
      plain.dir.file("giftgated.log"));
  // Refused as a configuration error (exit status 2), naming the line.
  const auto status = plain.daemon->wait_exit(10s);
  REQUIRE(status.has_value());
  CHECK(*status == 2);
  CHECK(contains(plain.daemon->log(), "loopback"));
}

}  // namespace giftgate::e2e
