#include "daemon/campaign/web_login.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/secrets.hpp"

namespace giftgate {
namespace {

constexpr int kCodeDigits = 6;
constexpr std::size_t kTokenBytes = 32;
constexpr auto kLimitWindow = std::chrono::hours(1);
// How long expired codes and tokens are kept before prune() takes them: long
// after the hour the rate limits look back, short enough that the tables
// stay small.
constexpr auto kKeepExpired = std::chrono::hours(24);

// What is kept of a code: the SHA-256 of the number and the code. A code of
// six digits is found from its hash by trying the million codes, so the
// hash only keeps the codes out of a copy of the database (a backup, a
// dump) at a glance; what makes a code hard to guess is that it is good for
// web.code_minutes and for web.code_attempts tries, counted here.
std::optional<Digest> code_digest(std::string_view msisdn, std::string_view code) {
  return sha256(fmt::format("{}:{}", msisdn, code));
}

// Rows of web_codes for a number or an address within the last hour: how
// many, and when the oldest of them was made.
struct Counted {
  std::int64_t count = 0;
  std::string oldest;
};
std::optional<Counted> count_codes(db::Database& db, const char* column, std::string_view value,
                                   Time now, db::Status* status) {
  auto q = db.prepare(fmt::format(
      "SELECT COUNT(*), COALESCE(MIN(created_at), '') FROM web_codes WHERE {} = ? AND "
      "created_at > ?",
      column));
  q.bind(1, value).bind(2, iso_time(now - kLimitWindow));
  if (q.step() != db::StepResult::row) {
    *status = q.status().ok() ? db::Status{1, "COUNT gave no row"} : q.status();
    return std::nullopt;
  }
  return Counted{q.column_int(0), q.column_text(1)};
}

// Seconds until the oldest counted code leaves the hour (at least 1).
std::int64_t retry_after(const Counted& c, Time now) {
  const auto oldest = parse_iso_time(c.oldest);
  if (!oldest) return std::chrono::duration_cast<std::chrono::seconds>(kLimitWindow).count();
  return std::max<std::int64_t>(1, (*oldest + kLimitWindow - now).count());
}

// The SMS of the number's codes that are of no more use (this one used,
// or replaced by a new one) loses its body once it reached its final
// state, so the outbox keeps no code that could still sign anyone in
// longer than it must (retention blanks the rest). One still in flight
// keeps its body: a resend must not be empty.
db::Status blank_spent_codes(db::Database& db, std::string_view msisdn) {
  auto blank = db.prepare(
      "UPDATE outbox SET body = '' WHERE msisdn = ? AND message = 'web_code' AND body <> '' "
      "AND state IN ('delivered', 'failed', 'expired')");
  return blank.bind(1, msisdn).run();
}

}  // namespace

WebLogin::CodeSent WebLogin::send_code(std::string_view msisdn, std::string_view client_address,
                                       std::int64_t key_id, Time now) {
  using S = CodeSent::Status;
  CodeSent out;
  const auto fail = [&](const db::Status& s) {
    out.status = S::failed;
    out.error = s.message;
    return out;
  };
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun());

  // The address first: one client asking for codes for many numbers, known
  // or not, is held back before it learns anything more.
  db::Status s;
  const auto by_address = count_codes(db_, "address", client_address, now, &s);
  if (!by_address) return fail(s);
  if (by_address->count >= settings_.codes_per_address_per_hour) {
    out.status = S::limited_address;
    out.retry_after = retry_after(*by_address, now);
    return out;
  }
  const auto member = Ledger(db_).find_member(msisdn, &s);
  if (!s.ok()) return fail(s);
  if (!member) {
    out.status = S::unknown_member;
    return out;
  }
  const auto by_number = count_codes(db_, "msisdn", msisdn, now, &s);
  if (!by_number) return fail(s);
  if (by_number->count >= settings_.codes_per_number_per_hour) {
    out.status = S::limited_number;
    out.retry_after = retry_after(*by_number, now);
    return out;
  }

  const auto code = random_digits(kCodeDigits);
  const auto digest = code ? code_digest(msisdn, *code) : std::nullopt;
  if (!digest) return fail({1, "no random code could be made (OpenSSL)"});
  const Time expires = now + std::chrono::minutes(settings_.code_minutes);

  // Only the newest code of a number is good: one asked for again replaces
  // the one before, so two live codes never double the tries.
  auto replace = db_.prepare(
      "UPDATE web_codes SET state = 'replaced' WHERE msisdn = ? AND state = 'open'");
  s = replace.bind(1, msisdn).run();
  if (s.ok()) s = blank_spent_codes(db_, msisdn);
  if (!s.ok()) return fail(s);
  auto insert = db_.prepare(
      "INSERT INTO web_codes(msisdn, address, key_id, code_hash, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  s = insert.bind(1, msisdn)
          .bind(2, client_address)
          .bind(3, key_id)
          .bind_blob(4, *digest)
          .bind(5, iso_time(now))
          .bind(6, iso_time(expires))
          .run();
  if (!s.ok()) return fail(s);
  s = service_.notify(member->msisdn, member->id, member->language, "web_code",
                      {{"code", *code}, {"minutes", std::to_string(settings_.code_minutes)}}, now);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return fail(s);
  out.status = S::sent;
  out.expires_at = iso_time(expires);
  return out;
}

WebLogin::Exchange WebLogin::exchange(std::string_view msisdn, std::string_view code,
                                      std::int64_t key_id, Time now) {
  using S = Exchange::Status;
  Exchange out;
  const auto fail = [&](const db::Status& s) {
    out.status = S::failed;
    out.error = s.message;
    return out;
  };
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun());

  // The number's latest code that was not replaced: open, locked or used.
  auto latest = db_.prepare(
      "SELECT id, code_hash, expires_at, attempts, state FROM web_codes WHERE id = "
      "(SELECT MAX(id) FROM web_codes WHERE msisdn = ? AND state <> 'replaced')");
  switch (latest.bind(1, msisdn).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: out.status = S::no_code; return out;
    case db::StepResult::error: return fail(latest.status());
  }
  const std::int64_t id = latest.column_int(0);
  const std::vector<unsigned char> stored = latest.column_blob(1);
  const std::string expires_at = latest.column_text(2);
  const std::int64_t attempts = latest.column_int(3);
  const std::string state = latest.column_text(4);
  if (state == "used") {
    out.status = S::no_code;
    return out;
  }
  if (state == "locked") {
    out.status = S::locked;
    return out;
  }
  if (expires_at <= iso_time(now)) {
    out.status = S::expired;
    return out;
  }
  db::Status s;
  if (attempts >= settings_.code_attempts) {  // web.code_attempts lowered by a reload
    auto lock = db_.prepare("UPDATE web_codes SET state = 'locked' WHERE id = ?");
    s = lock.bind(1, id).run();
    if (s.ok()) s = tx.commit();
    if (!s.ok()) return fail(s);
    out.status = S::locked;
    return out;
  }

  const auto digest = code_digest(msisdn, code);
  if (!digest) return fail({1, "SHA-256 is not available (OpenSSL)"});
  if (!same_digest(stored, *digest)) {
    // Counted and committed, although the exchange fails: that is the
    // whole defence against guessing a six-digit code.
    const bool last = attempts + 1 >= settings_.code_attempts;
    auto count = db_.prepare(
        "UPDATE web_codes SET attempts = attempts + 1, "
        "state = CASE WHEN ? THEN 'locked' ELSE state END WHERE id = ?");
    s = count.bind(1, std::int64_t{last}).bind(2, id).run();
    if (s.ok()) s = tx.commit();
    if (!s.ok()) return fail(s);
    out.status = S::wrong_code;
    out.attempts_left = static_cast<int>(std::max<std::int64_t>(
        0, settings_.code_attempts - attempts - 1));
    return out;
  }

  const auto member = Ledger(db_).find_member(msisdn, &s);
  if (!s.ok()) return fail(s);
  if (!member) {  // a member removed since: nobody to sign in
    out.status = S::no_code;
    return out;
  }
  const auto token = random_base64url(kTokenBytes);
  const auto token_digest = token ? sha256(*token) : std::nullopt;
  if (!token_digest) return fail({1, "no random token could be made (OpenSSL)"});
  const Time expires = now + std::chrono::minutes(settings_.token_minutes);
  auto used = db_.prepare("UPDATE web_codes SET state = 'used' WHERE id = ?");
  s = used.bind(1, id).run();
  if (s.ok()) s = blank_spent_codes(db_, msisdn);
  if (!s.ok()) return fail(s);
  auto insert = db_.prepare(
      "INSERT INTO web_tokens(token_hash, member_id, key_id, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)");
  s = insert.bind_blob(1, *token_digest)
          .bind(2, member->id)
          .bind(3, key_id)
          .bind(4, iso_time(now))
          .bind(5, iso_time(expires))
          .run();
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return fail(s);
  out.status = S::ok;
  out.token = *token;
  out.expires_at = iso_time(expires);
  return out;
}

std::optional<Member> WebLogin::member_for(std::string_view token, std::int64_t key_id, Time now,
                                           db::Status* status) {
  *status = {};
  // Looked up by its hash: a token is 256 random bits, so the time an index
  // lookup takes tells a guesser nothing worth having.
  const auto digest = sha256(token);
  if (!digest) {
    *status = {1, "SHA-256 is not available (OpenSSL)"};
    return std::nullopt;
  }
  auto q = db_.prepare(
      "SELECT m.id, m.msisdn, m.city, m.language, m.care_opt_out FROM web_tokens t "
      "JOIN members m ON m.id = t.member_id "
      "WHERE t.token_hash = ? AND t.key_id = ? AND t.expires_at > ?");
  q.bind_blob(1, *digest).bind(2, key_id).bind(3, iso_time(now));
  switch (q.step()) {
    case db::StepResult::row:
      return Member{q.column_int(0), q.column_text(1), q.column_text(2), q.column_text(3),
                    q.column_int(4) != 0};
    case db::StepResult::done: return std::nullopt;
    case db::StepResult::error: *status = q.status(); return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::int64_t> WebLogin::prune(Time now, std::string* error) {
  db::Transaction tx(db_);
  auto s = tx.begun();
  std::int64_t removed = 0;
  const std::string before = iso_time(now - kKeepExpired);
  for (const char* sql : {"DELETE FROM web_codes WHERE expires_at < ?",
                          "DELETE FROM web_tokens WHERE expires_at < ?"}) {
    if (!s.ok()) break;
    auto del = db_.prepare(sql);
    s = del.bind(1, before).run();
    if (s.ok()) removed += db_.changes();
  }
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    if (error) *error = s.message;
    return std::nullopt;
  }
  return removed;
}

}  // namespace giftgate
