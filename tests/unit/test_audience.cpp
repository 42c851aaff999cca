// Audience expressions: what an operator types, read exactly (errors with
// their places, canonical text, precedence), and run on a real database of
// twelve members chosen so that every condition has members on both sides
// of its boundary. The expected members were worked out by hand from the
// rows below, not taken from the code's output.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "daemon/campaign/audience.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

using Ids = std::vector<std::int64_t>;

Time utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return Time{std::chrono::sys_days{std::chrono::year{y} / mo / d}.time_since_epoch() +
              std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s)};
}

Campaign campaign_with_tiers() {
  Campaign c;
  c.tiers = {{"A", 50, 100}, {"B", 150, 300}, {"C", 500, 1000}};
  return c;
}

// Noon in Shanghai (+08:00 all year), mid-November.
const Time kNow = utc(2026, 11, 15, 4);

struct Parsed {
  std::optional<Audience> audience;
  std::string error;
};

Parsed parse(std::string_view text, const std::string& zone = "Asia/Shanghai") {
  static const Campaign campaign = campaign_with_tiers();
  Parsed p;
  p.error = "(untouched)";
  p.audience = parse_audience(text, AudienceContext{campaign, zone, kNow}, &p.error);
  return p;
}

std::string error_of(std::string_view text) {
  const auto p = parse(text);
  CHECK_MESSAGE(!p.audience, "accepted: ", text);
  return p.audience ? std::string("(accepted)") : p.error;
}

std::string canonical(std::string_view text) {
  const auto p = parse(text);
  INFO(text, " -> ", p.error);
  REQUIRE(p.audience);
  return p.audience->text;
}

// The twelve members; see each condition's case for who should match.
//  id city          lang created_at           points vouchers (expires_at)       MO received_at
//   1 beijing       zh   2026-09-01T00:00:00Z   500 issued, now+3d
//   2 beijing       en   2026-10-01T00:00:00Z   700 used, now+10d             2026-11-14T10:00Z
//   3 shanghai      zh   2026-10-01T08:00:00Z     0 issued, 2026-11-10 (past)
//   4 shanghai      en   2026-10-15T00:00:00Z   100 issued, now+20d
//   5 guangzhou     zh   2026-11-01T00:00:00Z    99 void, now+5d
//   6 guangzhou     zh   2026-11-10T00:00:00Z   300 -                         2026-10-31T16:00:00Z
//   7 shenzhen      en   2026-09-15T00:00:00Z  1000 issued, now (just ended)
//   8 xi'an         zh   2026-09-20T00:00:00Z     0 - (points +50, then -50)
//   9 x' or 1=1 --  zh   2026-09-21T00:00:00Z     0
//  10 beijing       zh   2026-10-20T00:00:00Z   299 issued, now+7d; used
//  11 hangzhou      en   2026-10-31T15:59:59Z   301 -                         2026-10-31T15:59:59Z
//  12 beijing       zh   2026-10-31T16:00:00Z     0 -
// A number that is no member's texted too (2026-11-14).
struct Members {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("a.db"));

  Members() {
    struct Row {
      const char* city;
      const char* language;
      Time created;
    };
    const Row rows[] = {
        {"beijing", "zh", utc(2026, 9, 1)},         {"beijing", "en", utc(2026, 10, 1)},
        {"shanghai", "zh", utc(2026, 10, 1, 8)},    {"shanghai", "en", utc(2026, 10, 15)},
        {"guangzhou", "zh", utc(2026, 11, 1)},      {"guangzhou", "zh", utc(2026, 11, 10)},
        {"shenzhen", "en", utc(2026, 9, 15)},       {"xi'an", "zh", utc(2026, 9, 20)},
        {"x' or 1=1 --", "zh", utc(2026, 9, 21)},   {"beijing", "zh", utc(2026, 10, 20)},
        {"hangzhou", "en", utc(2026, 10, 31, 15, 59, 59)},
        {"beijing", "zh", utc(2026, 10, 31, 16)},
    };
    std::int64_t id = 0;
    for (const auto& r : rows) {
      ++id;
      auto q = db->prepare(
          "INSERT INTO members(id, msisdn, city, language, created_at) VALUES (?, ?, ?, ?, ?)");
      REQUIRE(q.bind(1, id).bind(2, msisdn(id)).bind(3, r.city).bind(4, r.language)
                  .bind(5, iso_time(r.created)).run().ok());
    }
    for (auto [member, delta] : std::vector<std::pair<int, int>>{{1, 500},
                                                                 {2, 1000},
                                                                 {2, -300},
                                                                 {4, 100},
                                                                 {5, 99},
                                                                 {6, 300},
                                                                 {7, 1000},
                                                                 {8, 50},
                                                                 {8, -50},
                                                                 {10, 299},
                                                                 {11, 301}})
      ledger(member, delta);
    voucher(1, "issued", kNow + 3 * 24h);
    voucher(2, "used", kNow + 10 * 24h);
    voucher(3, "issued", utc(2026, 11, 10));
    voucher(4, "issued", kNow + 20 * 24h);
    voucher(5, "void", kNow + 5 * 24h);
    voucher(7, "issued", kNow);
    voucher(10, "issued", kNow + 7 * 24h);
    voucher(10, "used", kNow + 1 * 24h);
    inbox(msisdn(2), utc(2026, 11, 14, 10));
    inbox(msisdn(6), utc(2026, 10, 31, 16));
    inbox(msisdn(11), utc(2026, 10, 31, 15, 59, 59));
    inbox("8613999999999", utc(2026, 11, 14));
  }

  static std::string msisdn(std::int64_t id) { return fmt::format("86138000000{:02}", id); }

  void ledger(std::int64_t member, std::int64_t delta) {
    auto q = db->prepare(
        "INSERT INTO ledger(member_id, delta, reason, channel, actor) VALUES (?, ?, 'test', "
        "'giftctl', 'test')");
    REQUIRE(q.bind(1, member).bind(2, delta).run().ok());
  }
  void voucher(std::int64_t member, const char* state, Time expires) {
    auto q = db->prepare(
        "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, state, channel, "
        "issued_at, expires_at) VALUES (?, ?, 'A', 'beijing', 100, 50, ?, 'sms', ?, ?)");
    REQUIRE(q.bind(1, fmt::format("V{}", ++vouchers)).bind(2, member).bind(3, state)
                .bind(4, iso_time(utc(2026, 10, 1))).bind(5, iso_time(expires)).run().ok());
  }
  void inbox(const std::string& number, Time at) {
    auto q = db->prepare(
        "INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at) "
        "VALUES (?, ?, 'BAL', 'balance', 'sms', ?)");
    REQUIRE(q.bind(1, fmt::format("k{}", ++mos)).bind(2, number).bind(3, iso_time(at)).run().ok());
  }

  // The members the expression selects, as the push engine will ask: one id
  // range at a time (here ranges of five), the audience's parameters after
  // the range's two.
  Ids select(std::string_view text) {
    const auto p = parse(text);
    INFO(text, " -> ", p.error);
    REQUIRE(p.audience);
    auto q = db->prepare(
        "SELECT m.id FROM members m WHERE m.id > ? AND m.id <= ? AND (" + p.audience->where +
        ") ORDER BY m.id");
    Ids ids;
    for (std::int64_t low = 0; low < 15; low += 5) {
      q.reset();
      q.bind(1, low).bind(2, low + 5);
      p.audience->bind(q, 3);
      REQUIRE(q.each_row([&] { ids.push_back(q.column_int(0)); }).ok());
    }
    // The dry run's count says the same.
    auto count = db->prepare("SELECT COUNT(*) FROM members m WHERE " + p.audience->where);
    p.audience->bind(count, 1);
    REQUIRE(count.step() == db::StepResult::row);
    CHECK(count.column_int(0) == static_cast<std::int64_t>(ids.size()));
    return ids;
  }

  int vouchers = 0;
  int mos = 0;
};

const Ids kEveryone = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

}  // namespace

TEST_CASE("audience: errors say where, 1-based, and what was expected") {
  CHECK(error_of("balance >= x") == "at 12: expected a number after 'balance >=' (points, 0 to "
                                     "15 digits), not 'x'");
  CHECK(error_of("city = beijing and balance >=") ==
        "at 30: expected a number after 'balance >=' (points, 0 to 15 digits), not the end");
  CHECK(error_of("balance != 5") ==
        "at 9: expected >=, >, <, <= or = after 'balance', not '!='");
  CHECK(error_of("balance => 5") ==
        "at 10: expected a number after 'balance =' (points, 0 to 15 digits), not '>'");
  CHECK(error_of("balance >= -5") ==
        "at 12: expected a number after 'balance >=' (points, 0 to 15 digits), not '-5'");
  CHECK(error_of("balance >= 1234567890123456") ==
        "at 12: expected a number after 'balance >=' (points, 0 to 15 digits), not "
        "'1234567890123456'");
  CHECK(error_of("city beijing") == "at 6: expected =, != or in after 'city', not 'beijing'");
  CHECK(error_of("all all") == "at 5: expected 'and', 'or' or the end, not 'all'");
  CHECK(error_of("vip = 1") ==
        "at 1: unknown condition 'vip': expected one of all, city, language, balance, affords, "
        "has_voucher, no_voucher, expiring_within, imported_since, imported_before, "
        "active_since, 'not' or '('");
  CHECK(error_of("affords D") == "at 9: no tier 'D': the tiers are A, B, C");
  CHECK(error_of("language = fr") == "at 12: a language is zh or en, not 'fr'");
  CHECK(error_of("city in (beijing shanghai)") ==
        "at 18: expected ',' or ')' in the list after 'city in', not 'shanghai'");
  CHECK(error_of("city in ()") == "at 10: expected a city after '(', not ')'");
  CHECK(error_of("city = Bei.jing") ==
        "at 11: unexpected '.' (a value that is not lower-case letters, digits, _ or - goes in "
        "quotes)");
  CHECK(error_of("expiring_within 0") ==
        "at 17: expected a number of days (1 to 3650, as 7 or 7d) after 'expiring_within', not "
        "'0'");
  CHECK(error_of("expiring_within 7w") ==
        "at 17: expected a number of days (1 to 3650, as 7 or 7d) after 'expiring_within', not "
        "'7w'");
  CHECK(error_of("imported_since 2026-13-01") == "at 16: 2026-13-01 is no date and time");
  CHECK(error_of("imported_since yesterday") ==
        "at 16: expected a date (YYYY-MM-DD or 'YYYY-MM-DD HH:MM') after 'imported_since', not "
        "'yesterday'");
  CHECK(error_of("active_since '2026-11-01 25:00'") ==
        "at 14: 2026-11-01 25:00 is no date and time");
  CHECK(error_of("active_since '2026-11-01 08:00:00'") ==
        "at 14: expected a date (YYYY-MM-DD or 'YYYY-MM-DD HH:MM') after 'active_since', not "
        "'2026-11-01 08:00:00'");
  // Positions count characters, not bytes: 北京 is six bytes, two characters.
  CHECK(error_of("city = '北京' and x") ==
        "at 17: unknown condition 'x': expected one of all, city, language, balance, affords, "
        "has_voucher, no_voucher, expiring_within, imported_since, imported_before, "
        "active_since, 'not' or '('");
  CHECK(error_of("city = 北京") ==
        "at 8: unexpected '北' (a value that is not lower-case letters, digits, _ or - goes in "
        "quotes)");
  CHECK(error_of("city = 'beijing") == "at 8: the quote ' opened here is not closed");
  CHECK(error_of("city = ''") == "at 8: a city in quotes must be printable text, not empty");
  CHECK(error_of("city = 'a\x01'") == "at 8: a city in quotes must be printable text, not empty");
  CHECK(error_of("city = '\xff'") == "at 8: a city in quotes must be printable text, not empty");
  CHECK(error_of("balance ! 5") == "at 9: unexpected '!': did you mean '!=' or 'not'?");
}

TEST_CASE("audience: parentheses, emptiness, length and depth are refused with a place") {
  CHECK(error_of("") == "the audience is empty: write 'all' for every member, or conditions");
  CHECK(error_of("   \t ") == "the audience is empty: write 'all' for every member, or conditions");
  CHECK(error_of("(all") == "at 5: expected ')' to close the '(' at 1, not the end");
  CHECK(error_of("(city = a or (all)") == "at 19: expected ')' to close the '(' at 1, not the end");
  CHECK(error_of("all)") == "at 4: ')' without a matching '('");
  CHECK(error_of("(all))") == "at 6: ')' without a matching '('");
  CHECK(error_of(")") == "at 1: ')' without a matching '('");
  CHECK(error_of("()") ==
        "at 2: expected a condition (all, city, language, balance, affords, has_voucher, "
        "no_voucher, expiring_within, imported_since, imported_before, active_since) before ')'");
  CHECK(error_of("all and") ==
        "at 8: expected a condition (all, city, language, balance, affords, has_voucher, "
        "no_voucher, expiring_within, imported_since, imported_before, active_since), not the end");
  CHECK(error_of("not") ==
        "at 4: expected a condition (all, city, language, balance, affords, has_voucher, "
        "no_voucher, expiring_within, imported_since, imported_before, active_since), not the end");

  // 2000 bytes is the most: one more is refused before anything is read.
  std::string longest = "all";
  while (longest.size() + 7 <= kAudienceMaxLength) longest += " or all";
  longest.resize(kAudienceMaxLength, ' ');
  CHECK(parse(longest).audience);
  CHECK(error_of(longest + " ") == "the audience is 2001 bytes long, more than the 2000 allowed");

  // 32 levels of parentheses, or of 'not', or of both together, and no more.
  const auto nested = [](int opens, int nots) {
    std::string s;
    for (int k = 0; k < nots; ++k) s += "not ";
    s += std::string(static_cast<std::size_t>(opens), '(') + "all" +
         std::string(static_cast<std::size_t>(opens), ')');
    return s;
  };
  CHECK(parse(nested(32, 0)).audience);
  CHECK(parse(nested(0, 32)).audience);
  CHECK(parse(nested(16, 16)).audience);
  CHECK(error_of(nested(33, 0)) == "at 33: nested deeper than 32 (parentheses and 'not' together)");
  CHECK(error_of(nested(0, 33)) ==
        "at 129: nested deeper than 32 (parentheses and 'not' together)");
  CHECK(error_of(nested(17, 16)) ==
        "at 81: nested deeper than 32 (parentheses and 'not' together)");
  // Far deeper input ends at the bound too, without exhausting the stack.
  CHECK(!parse(std::string(1999, '(')).audience);
  std::string nots;
  while (nots.size() + 4 <= kAudienceMaxLength) nots += "not ";
  CHECK(!parse(nots).audience);
}

TEST_CASE("audience: the canonical text has single spaces, lower-case keywords and reads back") {
  CHECK(canonical("  CITY=Beijing   AND  Balance>=300 ") == "city = beijing and balance >= 300");
  CHECK(canonical("city IN(beijing,SHANGHAI)") == "city in (beijing, shanghai)");
  CHECK(canonical("City Not In ( a , b )") == "city not in (a, b)");
  CHECK(canonical("city <> x") == "city != x");
  CHECK(canonical("LANGUAGE = EN") == "language = en");
  CHECK(canonical("city = \"Xi'an\"") == "city = \"xi'an\"");
  CHECK(canonical("city = 'Hong Kong'") == "city = 'hong kong'");
  CHECK(canonical("city = 'beijing'") == "city = beijing");
  CHECK(canonical("affords b") == "affords B");
  CHECK(canonical("expiring_within 7") == "expiring_within 7d");
  CHECK(canonical("EXPIRING_WITHIN 07D") == "expiring_within 7d");
  CHECK(canonical("imported_since 2026-10-01") == "imported_since 2026-10-01");
  CHECK(canonical("imported_since 2026-10-01 08:00") == "imported_since '2026-10-01 08:00'");
  CHECK(canonical("imported_since 2026-10-01T08:00") == "imported_since '2026-10-01 08:00'");
  CHECK(canonical("active_since \"2026-10-01 08:00\"") == "active_since '2026-10-01 08:00'");
  CHECK(canonical("NOT Has_Voucher Or No_voucher") == "not has_voucher or no_voucher");
  CHECK(canonical("((all))") == "(all)");
}

TEST_CASE("audience: reading the canonical text again gives the same SQL and values") {
  for (const char* text :
       {"city in (beijing, 'Hong Kong', \"Xi'an\") and not (balance < 5 or affords c)",
        "imported_since 2026-10-01 08:00 or active_since 2026-11-01 and expiring_within 3",
        "NOT not all", "language != EN and (has_voucher or (no_voucher))"}) {
    const auto first = parse(text);
    INFO(text, " -> ", first.error);
    REQUIRE(first.audience);
    const auto again = parse(first.audience->text);
    INFO(first.audience->text, " -> ", again.error);
    REQUIRE(again.audience);
    CHECK(again.audience->text == first.audience->text);
    CHECK(again.audience->where == first.audience->where);
    CHECK(again.audience->params == first.audience->params);
  }
}

TEST_CASE("audience: values and times are parameters, never part of the SQL") {
  const auto p = parse(
      "city in (beijing, \"x' OR 1=1 --\") or balance >= 4242 or affords C or "
      "imported_since '2026-10-01 08:00' or expiring_within 9d");
  REQUIRE(p.audience);
  const std::string& sql = p.audience->where;
  for (const char* value : {"beijing", "x'", "1=1", "4242", "1000", "2026", "--"})
    CHECK_MESSAGE(sql.find(value) == std::string::npos, value, " in ", sql);
  CHECK(std::count(sql.begin(), sql.end(), '?') == static_cast<long>(p.audience->params.size()));
  CHECK(p.audience->params ==
        std::vector<AudienceParam>{std::string("beijing"), std::string("x' or 1=1 --"),
                                   std::int64_t{4242}, std::int64_t{1000},
                                   std::string("2026-10-01T00:00:00Z"),
                                   std::string("2026-11-15T04:00:00Z"),
                                   std::string("2026-11-24T04:00:00Z")});
}

TEST_CASE("audience: each condition selects exactly its members") {
  Members m;
  CHECK(m.select("all") == kEveryone);

  CHECK(m.select("city = beijing") == Ids{1, 2, 10, 12});
  CHECK(m.select("city = BEIJING") == Ids{1, 2, 10, 12});
  CHECK(m.select("city != beijing") == Ids{3, 4, 5, 6, 7, 8, 9, 11});
  CHECK(m.select("city in (shanghai, guangzhou)") == Ids{3, 4, 5, 6});
  CHECK(m.select("city not in (beijing, shanghai)") == Ids{5, 6, 7, 8, 9, 11});
  CHECK(m.select("city = \"Xi'an\"") == Ids{8});
  CHECK(m.select("city = nowhere").empty());
  CHECK(m.select("language = en") == Ids{2, 4, 7, 11});
  CHECK(m.select("language != en") == Ids{1, 3, 5, 6, 8, 9, 10, 12});

  CHECK(m.select("balance >= 300") == Ids{1, 2, 6, 7, 11});
  CHECK(m.select("balance > 300") == Ids{1, 2, 7, 11});
  CHECK(m.select("balance < 100") == Ids{3, 5, 8, 9, 12});
  CHECK(m.select("balance <= 100") == Ids{3, 4, 5, 8, 9, 12});
  CHECK(m.select("balance = 0") == Ids{3, 8, 9, 12});
  CHECK(m.select("affords A") == Ids{1, 2, 4, 6, 7, 10, 11});
  CHECK(m.select("affords b") == Ids{1, 2, 6, 7, 11});
  CHECK(m.select("affords C") == Ids{7});

  // Unused: issued and not yet expired (7's expires this very second).
  CHECK(m.select("has_voucher") == Ids{1, 4, 10});
  CHECK(m.select("no_voucher") == Ids{2, 3, 5, 6, 7, 8, 9, 11, 12});
  CHECK(m.select("expiring_within 7") == Ids{1, 10});
  CHECK(m.select("expiring_within 3d") == Ids{1});
  CHECK(m.select("expiring_within 2d").empty());
  CHECK(m.select("expiring_within 30") == Ids{1, 4, 10});

  // 2026-11-01 in Shanghai began at 2026-10-31T16:00:00Z.
  CHECK(m.select("imported_since 2026-11-01") == Ids{5, 6, 12});
  CHECK(m.select("imported_before 2026-11-01") == Ids{1, 2, 3, 4, 7, 8, 9, 10, 11});
  CHECK(m.select("imported_since '2026-10-01 16:00'") == Ids{3, 4, 5, 6, 10, 11, 12});
  CHECK(m.select("active_since 2026-11-01") == Ids{2, 6});
  CHECK(m.select("active_since 2026-10-01") == Ids{2, 6, 11});
  CHECK(m.select("active_since 2026-11-15").empty());
}

TEST_CASE("audience: 'and' binds tighter than 'or', 'not' tighter than both") {
  Members m;
  // (beijing and >= 300) or (en and unused voucher): {1, 2} and {4}.
  CHECK(m.select("city = beijing and balance >= 300 or language = en and has_voucher") ==
        Ids{1, 2, 4});
  CHECK(m.select("city = beijing and (balance >= 300 or language = en) and has_voucher") ==
        Ids{1});
  CHECK(m.select("has_voucher or city = beijing and language = en") == Ids{1, 2, 4, 10});
  CHECK(m.select("(has_voucher or city = beijing) and language = en") == Ids{2, 4});
  CHECK(m.select("not has_voucher and affords B") == Ids{2, 6, 7, 11});
  CHECK(m.select("not (has_voucher and affords B)") == Ids{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(m.select("not (city = beijing or city = shanghai)") == Ids{5, 6, 7, 8, 9, 11});
  CHECK(m.select("not not all") == kEveryone);
  CHECK(m.select("imported_since 2026-10-01 and no_voucher and not active_since 2026-11-01") ==
        Ids{3, 5, 11, 12});
}

TEST_CASE("audience: an attempt at SQL injection in a value is inert or refused") {
  Members m;
  // In quotes it is a city like any other: only the member whose city is
  // exactly that text, never everyone.
  CHECK(m.select("city = \"x' OR 1=1 --\"") == Ids{9});
  CHECK(m.select("city = \"y' OR 1=1 --\"").empty());
  CHECK(m.select("city in ('a', \"') OR 1=1 --\")").empty());
  CHECK(m.select("city = \"beijing'; DELETE FROM members; --\"").empty());
  CHECK(m.select("all") == kEveryone);
  // Bare, it is not a value at all.
  CHECK(error_of("city = x' OR 1=1 --") == "at 9: the quote ' opened here is not closed");
  CHECK(error_of("city = beijing; DELETE FROM members") ==
        "at 15: unexpected ';' (a value that is not lower-case letters, digits, _ or - goes in "
        "quotes)");
  CHECK(error_of("balance >= 1 OR 1=1") ==
        "at 17: unknown condition '1': expected one of all, city, language, balance, affords, "
        "has_voucher, no_voucher, expiring_within, imported_since, imported_before, "
        "active_since, 'not' or '('");
  CHECK(error_of("balance >= 1/**/") ==
        "at 13: unexpected '/' (a value that is not lower-case letters, digits, _ or - goes in "
        "quotes)");
}

TEST_CASE("audience: every condition reads the member's rows through an index") {
  Members m;
  const auto p = parse(
      "balance >= 1 and has_voucher and expiring_within 3 and active_since 2026-11-01 and "
      "city in (a, b) and imported_since 2026-10-01");
  REQUIRE(p.audience);
  auto q = m.db->prepare(
      "EXPLAIN QUERY PLAN SELECT m.id FROM members m WHERE m.id > ? AND m.id <= ? AND (" +
      p.audience->where + ")");
  std::vector<std::string> plan;
  REQUIRE(q.each_row([&] { plan.push_back(q.column_text(3)); }).ok());
  INFO(fmt::format("{}", fmt::join(plan, " | ")));
  const auto has = [&](const std::string& part) {
    return std::any_of(plan.begin(), plan.end(),
                       [&](const std::string& row) { return row.find(part) != std::string::npos; });
  };
  CHECK(has("SEARCH m USING INTEGER PRIMARY KEY"));
  CHECK(has("USING INDEX ledger_member"));
  CHECK(has("USING INDEX vouchers_member"));
  CHECK(has("INDEX inbox_msisdn (msisdn=? AND received_at>?)"));
  for (const auto& row : plan) CHECK_MESSAGE(row.find("SCAN") == std::string::npos, row);
}

TEST_CASE("audience: the longest expressions prepare, bind every value and run") {
  Members m;
  // As many conditions as fit, the one that matters last: its parameter is
  // the last bound.
  std::string ors = "city = b0";
  while (ors.size() + 13 + 20 <= kAudienceMaxLength) ors += " or city = b0";
  ors += " or city = shenzhen";
  REQUIRE(ors.size() <= kAudienceMaxLength);
  CHECK(m.select(ors) == Ids{7});
  std::string list = "city in (x";
  while (list.size() + 2 + 10 <= kAudienceMaxLength) list += ",x";
  list += ",beijing)";
  const auto p = parse(list);
  REQUIRE(p.audience);
  CHECK(p.audience->params.size() > 900);
  CHECK(m.select(list) == Ids{1, 2, 10, 12});
}

TEST_CASE("audience: a date in the campaign's zone, and one its clocks skip, are read right") {
  const auto berlin = parse("imported_since '2026-10-01 08:00'", "Europe/Berlin");
  REQUIRE(berlin.audience);
  CHECK(berlin.audience->params == std::vector<AudienceParam>{std::string("2026-10-01T06:00:00Z")});
  const auto skipped = parse("active_since '2026-03-29 02:30'", "Europe/Berlin");
  CHECK(!skipped.audience);
  CHECK(skipped.error ==
        "at 14: no such time as 2026-03-29 02:30: the clocks in Europe/Berlin skip it (at 02:00 "
        "they go on to 03:00)");
  const auto unknown = parse("active_since 2026-03-29", "Mars/Olympus");
  CHECK(unknown.error == "at 14: the campaign's time zone 'Mars/Olympus' is not known");
}

TEST_CASE("audience: the grammar's help names every condition the parser knows") {
  const std::string help = describe_audience_grammar();
  for (const char* word : {"all", "city", "language", "balance", "affords", "has_voucher",
                           "no_voucher", "expiring_within", "imported_since", "imported_before",
                           "active_since"}) {
    CHECK_MESSAGE(help.find(word) != std::string::npos, word);
    // And each is a condition the parser reads (as the first word).
    const auto p = parse(word);
    CHECK(p.error.find("unknown condition") == std::string::npos);
  }
  // The example in the help parses.
  const auto at = help.find("Example: ");
  REQUIRE(at != std::string::npos);
  const auto end = help.find('\n', at);
  CHECK(parse(help.substr(at + 9, end - at - 9)).audience);
}

TEST_CASE("audience: any jumble of its words is refused or gives SQL that runs, never a throw") {
  // Expressions built by the grammar at random, half of them then spoiled
  // by a word put in, left out or swapped (seeded: the same every run).
  // Whatever is accepted must prepare (Statement throws when SQL does not),
  // bind every '?' and read back the same from its canonical text.
  Members m;
  const std::vector<std::string> noise = {
      "all", "city", "balance", "affords", "and", "or", "not", "in", "(", ")", ",", "=", "!=",
      ">=", "!", "beijing", "B", "7d", "0", "2026-10-01", "08:00", "'", "\"", "北京", "\xff",
      ";", "--", "1=1", "?", "'x' OR 1=1"};
  std::uint32_t seed = 2026;
  const auto next = [&seed](std::uint32_t n) {
    seed = seed * 1664525u + 1013904223u;
    return (seed >> 8) % n;
  };
  const auto pick = [&](std::initializer_list<const char*> from) {
    return std::string(from.begin()[next(static_cast<std::uint32_t>(from.size()))]);
  };
  std::function<void(std::vector<std::string>&, int)> expr = [&](std::vector<std::string>& out,
                                                                  int depth) {
    const auto kind = next(depth > 3 ? 9 : 12);
    switch (kind) {
      case 0: out.push_back("all"); break;
      case 1:
        out.insert(out.end(), {"city", pick({"=", "!=", "<>"}), pick({"beijing", "'Xi an'"})});
        break;
      case 2:
        out.insert(out.end(), {pick({"city", "language"}), pick({"in", "not in"}), "(", "zh",
                               ",", "en", ")"});
        break;
      case 3:
        out.insert(out.end(), {"balance", pick({">=", ">", "<", "<=", "="}), pick({"0", "300"})});
        break;
      case 4: out.insert(out.end(), {"affords", pick({"a", "B", "C"})}); break;
      case 5: out.push_back(pick({"has_voucher", "no_voucher", "HAS_VOUCHER"})); break;
      case 6: out.insert(out.end(), {"expiring_within", pick({"1", "7d", "3650"})}); break;
      case 7:
        out.insert(out.end(), {pick({"imported_since", "imported_before", "active_since"}),
                               pick({"2026-10-01", "'2026-10-01 08:00'", "2026-10-01T08:00"})});
        break;
      case 8: out.push_back("language = en"); break;
      case 9:
        out.push_back("not");
        expr(out, depth + 1);
        break;
      case 10:
        out.push_back("(");
        expr(out, depth + 1);
        out.push_back(")");
        break;
      default:
        expr(out, depth + 1);
        out.push_back(pick({"and", "or", "AND", "Or"}));
        expr(out, depth + 1);
    }
  };
  int accepted = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::string> parts;
    expr(parts, 0);
    if (next(2)) {
      const auto at = next(static_cast<std::uint32_t>(parts.size()) + 1);
      const auto what = noise[next(static_cast<std::uint32_t>(noise.size()))];
      switch (next(3)) {
        case 0: parts.insert(parts.begin() + at, what); break;
        case 1: if (at < parts.size()) parts.erase(parts.begin() + at); break;
        default: if (at < parts.size()) parts[at] = what;
      }
    }
    std::string text;
    for (const auto& w : parts) text += (text.empty() || next(4) ? " " : "") + w;
    INFO(text);
    std::optional<Audience> a;
    std::string error;
    const Campaign campaign = campaign_with_tiers();
    CHECK_NOTHROW(a = parse_audience(text, AudienceContext{campaign, "Asia/Shanghai", kNow},
                                     &error));
    if (!a) {
      ++refused;
      CHECK((error.rfind("at ", 0) == 0 || error.rfind("the audience is empty", 0) == 0));
      continue;
    }
    ++accepted;
    CHECK(std::count(a->where.begin(), a->where.end(), '?') ==
          static_cast<long>(a->params.size()));
    CHECK_NOTHROW({
      auto q = m.db->prepare("SELECT COUNT(*) FROM members m WHERE " + a->where);
      a->bind(q, 1);
      CHECK(q.step() == db::StepResult::row);
    });
    const auto again = parse(a->text);
    REQUIRE(again.audience);
    CHECK(again.audience->where == a->where);
    CHECK(again.audience->params == a->params);
  }
  // Both sides are reached often enough to mean something.
  CHECK(accepted > 1000);
  CHECK(refused > 300);
}
