#include "daemon/campaign/vouchers.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "daemon/campaign/reminders.hpp"
#include "daemon/campaign/voucher_code.hpp"

namespace giftgate {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

Redemption refused(Redemption::Status status, std::int64_t balance = 0) {
  Redemption r;
  r.status = status;
  r.balance = balance;
  return r;
}

Redemption failed_redemption(const db::Status& s) {
  Redemption r;
  r.status = Redemption::Status::failed;
  r.error = s.message;
  return r;
}

Redemption offered(const Tier* tier, std::string until) {
  Redemption r;
  r.status = Redemption::Status::offered;
  if (tier) {
    r.tier = tier->name;
    r.price = tier->price;
    r.face_value = tier->face_value;
  }
  r.offer_expires_at = std::move(until);
  return r;
}

// The voucher a request already got, if any (a redelivered MO, a second "Y"),
// or a failed redemption when the database cannot say: a request whose
// voucher could not be looked up must not be redeemed again.
std::optional<Redemption> find_issued(db::Database& db, const std::string& request) {
  auto previous = db.prepare(
      "SELECT code, tier, price, face_value, expires_at, member_id FROM vouchers WHERE request = ?");
  previous.bind(1, request);
  switch (previous.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return std::nullopt;
    case db::StepResult::error: return failed_redemption(previous.status());
  }
  Redemption r;
  r.status = Redemption::Status::already_issued;
  r.code = previous.column_text(0);
  r.tier = previous.column_text(1);
  r.price = previous.column_int(2);
  r.face_value = previous.column_int(3);
  r.expires_at = previous.column_text(4);
  Ledger ledger(db);
  const auto balance = ledger.balance(previous.column_int(5));
  if (!balance) return failed_redemption({1, ledger.last_error()});
  r.balance = *balance;
  return r;
}

// The checks every ask passes before anything is held or taken.
struct Asked {
  std::optional<Member> member;
  const Tier* tier = nullptr;
  std::int64_t balance = 0;
  std::optional<Redemption> refusal;
};

Asked check_ask(db::Database& db, const Campaign& campaign, std::string_view msisdn,
                std::string_view tier_name, Time now) {
  Asked a;
  if (now < campaign.start) a.refusal = refused(Redemption::Status::not_started);
  else if (now >= campaign.end) a.refusal = refused(Redemption::Status::ended);
  // The configuration puts a fixed expiry after the end, so this is only
  // reached by a campaign built otherwise: nothing is offered or taken for
  // a voucher that would be expired when issued.
  else if (campaign.vouchers_expire_at && now >= *campaign.vouchers_expire_at)
    a.refusal = failed_redemption(
        {1, fmt::format("vouchers_expire ({}) has passed: a voucher issued now would be "
                        "expired already; nothing was taken",
                        iso_time(*campaign.vouchers_expire_at))});
  if (a.refusal) return a;
  Ledger ledger(db);
  db::Status found;
  a.member = ledger.find_member(msisdn, &found);
  if (!found.ok()) {  // never "not a member" because the disk was busy
    a.refusal = failed_redemption(found);
    return a;
  }
  if (!a.member) {
    a.refusal = refused(Redemption::Status::unknown_member);
    return a;
  }
  a.tier = campaign.tier(tier_name);
  const auto balance = ledger.balance(a.member->id);
  if (!balance) {
    a.refusal = failed_redemption({1, ledger.last_error()});
    return a;
  }
  a.balance = *balance;
  if (!a.tier) a.refusal = refused(Redemption::Status::unknown_tier, a.balance);
  else if (a.balance < a.tier->price)
    a.refusal = refused(Redemption::Status::insufficient_points, a.balance);
  if (a.refusal && a.tier) {  // the answer names the tier asked for
    a.refusal->tier = a.tier->name;
    a.refusal->price = a.tier->price;
    a.refusal->face_value = a.tier->face_value;
  }
  return a;
}

const char* why(Verification::Status status) {
  switch (status) {
    case Verification::Status::bad_format: return "bad format";
    case Verification::Status::bad_check_digit: return "bad check digit";
    case Verification::Status::unknown_code: return "unknown code";
    case Verification::Status::wrong_city: return "wrong city";
    default: return "other";
  }
}

// How many fresh codes to draw when one collides with an existing voucher.
constexpr int kCodeAttempts = 8;

}  // namespace

std::string iso_time(Time t) {
  // Nearly every statement binds the current second: formatted once per second.
  thread_local Time last = Time::min();
  thread_local std::string text;
  if (t != last) {
    text = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t);
    last = t;
  }
  return text;
}

const Tier* Campaign::tier(std::string_view name) const {
  for (const auto& t : tiers)
    if (same_name(t.name, name)) return &t;
  return nullptr;
}

Redemption Vouchers::redeem(std::string_view msisdn, std::string_view tier_name,
                            const std::string& request, const Actor& actor, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_redemption(tx.begun());
  if (auto previous = find_issued(db_, request)) return *previous;
  Asked asked = check_ask(db_, campaign_, msisdn, tier_name, now);
  if (asked.refusal) return *asked.refusal;
  auto r = issue(asked.member->id, asked.member->city, *asked.tier, asked.balance, request, actor,
                 now);
  if (r.status != Redemption::Status::issued) return r;
  if (const auto c = tx.commit(); !c.ok()) return failed_redemption(c);
  return r;
}

Redemption Vouchers::issue(std::int64_t member_id, const std::string& city, const Tier& tier,
                           std::int64_t balance, const std::string& request, const Actor& actor,
                           Time now) {
  auto take = db_.prepare(
      "UPDATE stock SET quantity = quantity - 1 WHERE tier = ? AND city = ? AND quantity > 0");
  if (const auto s = take.bind(1, tier.name).bind(2, city).run(); !s.ok())
    return failed_redemption(s);
  if (db_.changes() != 1) {
    Redemption r = refused(Redemption::Status::out_of_stock, balance);
    r.tier = tier.name;
    return r;
  }

  const Time expires = campaign_.vouchers_expire_at
                           ? *campaign_.vouchers_expire_at
                           : now + std::chrono::days(campaign_.voucher_days);
  Redemption r;
  r.tier = tier.name;
  r.price = tier.price;
  r.face_value = tier.face_value;
  r.expires_at = iso_time(expires);
  auto insert = db_.prepare(
      "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, channel, request, "
      "issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const std::optional<std::string> request_key =
      request.empty() ? std::nullopt : std::optional<std::string>(request);
  for (int attempt = 0; attempt < kCodeAttempts && r.code.empty(); ++attempt) {
    const auto code = generate_voucher_code();
    if (!code) return failed_redemption({1, "the random generator failed"});
    insert.reset();
    const auto s = insert.bind(1, *code)
                       .bind(2, member_id)
                       .bind(3, tier.name)
                       .bind(4, city)
                       .bind(5, tier.price)
                       .bind(6, tier.face_value)
                       .bind(7, actor.channel)
                       .bind(8, request_key)
                       .bind(9, iso_time(now))
                       .bind(10, r.expires_at)
                       .run();
    if (s.ok()) r.code = *code;
    else if (!s.constraint()) return failed_redemption(s);  // a colliding code: draw another
  }
  if (r.code.empty()) return failed_redemption({1, "no free voucher code after several draws"});

  Ledger ledger(db_);
  const auto deducted = ledger.add_points(member_id, -tier.price,
                                          fmt::format("redeemed tier {}", tier.name),
                                          "redeem:" + r.code, actor, campaign_.points);
  if (deducted != Ledger::Result::ok) return failed_redemption({1, ledger.last_error()});
  if (const auto e = record_event(db_, "voucher_issued", member_id, actor,
                                  fmt::format("tier {} {} yuan", tier.name, tier.face_value),
                                  r.code);
      !e.ok())
    return failed_redemption(e);
  r.status = Redemption::Status::issued;
  r.balance = balance - tier.price;
  return r;
}

Redemption Vouchers::request(std::string_view msisdn, std::string_view tier_name,
                             const std::string& request, const Actor& actor, Time now) {
  if (campaign_.confirm_minutes <= 0) return redeem(msisdn, tier_name, request, actor, now);
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_redemption(tx.begun());
  auto previous = db_.prepare(
      "SELECT o.tier, o.expires_at, o.member_id FROM offers o WHERE o.request = ?");
  previous.bind(1, request);
  const auto held = previous.step();
  if (held == db::StepResult::error) return failed_redemption(previous.status());
  if (held == db::StepResult::row) {  // the same ask delivered again: the same offer
    const Tier* tier = campaign_.tier(previous.column_text(0));
    Redemption r = offered(tier, previous.column_text(1));
    Ledger ledger(db_);
    const auto balance = ledger.balance(previous.column_int(2));
    if (!balance) return failed_redemption({1, ledger.last_error()});
    r.balance = *balance;
    return r;
  }
  Asked asked = check_ask(db_, campaign_, msisdn, tier_name, now);
  if (asked.refusal) return *asked.refusal;
  auto in_stock = db_.prepare("SELECT quantity FROM stock WHERE tier = ? AND city = ?");
  in_stock.bind(1, asked.tier->name).bind(2, asked.member->city);
  const auto stocked = in_stock.step();
  if (stocked == db::StepResult::error) return failed_redemption(in_stock.status());
  if (stocked == db::StepResult::done || in_stock.column_int(0) <= 0) {
    Redemption r = refused(Redemption::Status::out_of_stock, asked.balance);
    r.tier = asked.tier->name;
    return r;
  }

  // A new ask replaces whatever the member held before.
  auto replace = db_.prepare(
      "UPDATE offers SET state = 'replaced' WHERE member_id = ? AND state = 'held'");
  auto s = replace.bind(1, asked.member->id).run();
  const std::string until = iso_time(now + std::chrono::minutes(campaign_.confirm_minutes));
  auto hold = db_.prepare(
      "INSERT INTO offers(member_id, tier, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
  if (s.ok())
    s = hold.bind(1, asked.member->id)
            .bind(2, asked.tier->name)
            .bind(3, request)
            .bind(4, iso_time(now))
            .bind(5, until)
            .run();
  if (s.ok())
    s = record_event(db_, "offer_held", asked.member->id, actor,
                     fmt::format("tier {} until {}", asked.tier->name, until));
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return failed_redemption(s);
  Redemption r = offered(asked.tier, until);
  r.balance = asked.balance;
  return r;
}

Redemption Vouchers::confirm(std::string_view msisdn, const Actor& actor, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_redemption(tx.begun());
  auto latest = db_.prepare(
      "SELECT o.id, o.tier, o.state, o.expires_at FROM offers o JOIN members m "
      "ON m.id = o.member_id WHERE m.msisdn = ? ORDER BY o.id DESC LIMIT 1");
  latest.bind(1, msisdn);
  switch (latest.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return refused(Redemption::Status::no_offer);
    case db::StepResult::error: return failed_redemption(latest.status());
  }
  const std::int64_t offer_id = latest.column_int(0);
  const std::string tier_name = latest.column_text(1);
  const std::string state = latest.column_text(2);
  const std::string request = fmt::format("offer:{}", offer_id);
  if (state != "held") return refused(Redemption::Status::no_offer);
  if (iso_time(now) >= latest.column_text(3)) return refused(Redemption::Status::offer_expired);

  Asked asked = check_ask(db_, campaign_, msisdn, tier_name, now);
  if (asked.refusal) return *asked.refusal;
  auto mark = db_.prepare("UPDATE offers SET state = 'confirmed' WHERE id = ? AND state = 'held'");
  if (const auto s = mark.bind(1, offer_id).run(); !s.ok()) return failed_redemption(s);
  auto r = issue(asked.member->id, asked.member->city, *asked.tier, asked.balance, request, actor,
                 now);
  if (r.status != Redemption::Status::issued) return r;
  if (const auto c = tx.commit(); !c.ok()) return failed_redemption(c);
  return r;
}

Verification Vouchers::failed_verification(Verification v, const db::Status& s) {
  v.status = Verification::Status::failed;
  v.error = s.message;
  last_error_ = s.message;
  return v;
}

Verification Vouchers::settle(db::Transaction& tx, Verification v) {
  // A refusal is committed too: the failure it counted must stick.
  if (v.status == Verification::Status::failed) return v;
  if (const auto c = tx.commit(); !c.ok()) return failed_verification(std::move(v), c);
  return v;
}

Verification Vouchers::verify(std::string_view merchant_msisdn, std::string_view typed_code,
                              const Actor& actor, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_verification({}, tx.begun());
  // Read for every verification, never cached: an operator's disable or
  // removed number holds from the next MO on.
  auto merchant = db_.prepare(
      "SELECT m.id, m.city, m.disabled FROM merchant_phones p JOIN merchants m "
      "ON m.id = p.merchant_id WHERE p.msisdn = ?");
  merchant.bind(1, merchant_msisdn);
  switch (merchant.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: {
      // No merchant to count the failure against: the per-number limits
      // bound such a number.
      Verification v;
      v.status = Verification::Status::not_a_merchant;
      return settle(tx, std::move(v));
    }
    case db::StepResult::error: return failed_verification({}, merchant.status());
  }
  return settle(tx, verify_for(merchant.column_text(0), merchant.column_text(1),
                               merchant.column_int(2) != 0, merchant_msisdn, typed_code, actor,
                               now));
}

Verification Vouchers::verify_at(std::string_view merchant_id, std::string_view source,
                                 std::string_view typed_code, const Actor& actor, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_verification({}, tx.begun());
  // Read for every verification, as verify() reads the number's merchant.
  auto merchant = db_.prepare("SELECT id, city, disabled FROM merchants WHERE id = ?");
  merchant.bind(1, merchant_id);
  switch (merchant.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: {
      Verification v;
      v.status = Verification::Status::not_a_merchant;
      return settle(tx, std::move(v));
    }
    case db::StepResult::error: return failed_verification({}, merchant.status());
  }
  return settle(tx, verify_for(merchant.column_text(0), merchant.column_text(1),
                               merchant.column_int(2) != 0, source, typed_code, actor, now));
}

Verification Vouchers::verify_for(const std::string& merchant_id, const std::string& city,
                                  bool disabled, std::string_view source,
                                  std::string_view typed_code, const Actor& actor, Time now) {
  Verification v;
  v.merchant_id = merchant_id;
  // Every answer that checked a code and did not use it counts against the
  // merchant: "used", "expired" or "void" tell a guesser as much as
  // "unknown". A locked or disabled merchant's tries check nothing.
  auto answer = [&](Verification::Status status) {
    using S = Verification::Status;
    v.status = status;
    if (status != S::used && status != S::locked_out && status != S::merchant_disabled &&
        campaign_.guard_failures + campaign_.guard_daily_failures > 0) {
      if (const auto s = count_failure(source, v.merchant_id, why(status), actor, now,
                                       &v.locked_until);
          !s.ok())
        return failed_verification(std::move(v), s);
      v.counted = true;
    }
    return v;
  };
  auto failed = [&](const db::Status& s) { return failed_verification(std::move(v), s); };

  if (disabled) return answer(Verification::Status::merchant_disabled);

  // The lock is the merchant's: all its numbers and terminals wait it out
  // together.
  auto locked = db_.prepare("SELECT until FROM merchant_lockouts WHERE merchant_id = ? AND until > ?");
  locked.bind(1, v.merchant_id).bind(2, iso_time(now));
  switch (locked.step()) {
    case db::StepResult::row:
      v.locked_until = locked.column_text(0);
      return answer(Verification::Status::locked_out);
    case db::StepResult::done: break;
    case db::StepResult::error: return failed(locked.status());
  }

  std::string code;
  switch (check_voucher_code(typed_code, &code)) {
    case CodeCheck::ok: break;
    case CodeCheck::bad_format: return answer(Verification::Status::bad_format);
    case CodeCheck::bad_check_digit: return answer(Verification::Status::bad_check_digit);
  }
  v.code = code;

  auto voucher = db_.prepare(
      "SELECT v.tier, v.face_value, v.city, v.state, v.expires_at, v.used_at, m.msisdn, "
      "v.member_id FROM vouchers v JOIN members m ON m.id = v.member_id WHERE v.code = ?");
  voucher.bind(1, code);
  switch (voucher.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return answer(Verification::Status::unknown_code);
    case db::StepResult::error: return failed(voucher.status());
  }
  v.tier = voucher.column_text(0);
  v.face_value = voucher.column_int(1);
  v.member_msisdn = voucher.column_text(6);
  const std::string state = voucher.column_text(3);
  if (state == "used") {
    v.used_at = voucher.column_text(5);
    return answer(Verification::Status::already_used);
  }
  if (state == "void") return answer(Verification::Status::voided);
  if (iso_time(now) >= voucher.column_text(4)) return answer(Verification::Status::expired);
  if (voucher.column_text(2) != city) return answer(Verification::Status::wrong_city);
  const std::int64_t member_id = voucher.column_int(7);

  // The state test in the WHERE clause is what makes "used" happen once.
  v.used_at = iso_time(now);
  auto use = db_.prepare(
      "UPDATE vouchers SET state = 'used', used_at = ?, used_by = ? "
      "WHERE code = ? AND state = 'issued'");
  if (const auto s = use.bind(1, v.used_at).bind(2, v.merchant_id).bind(3, code).run(); !s.ok())
    return failed(s);
  if (db_.changes() != 1) return answer(Verification::Status::already_used);
  if (const auto e = record_event(db_, "voucher_used", member_id, actor,
                                  fmt::format("merchant {}", v.merchant_id), code);
      !e.ok())
    return failed(e);
  if (const auto w = withdraw_reminder(db_, code, now); !w.ok()) return failed(w);
  return answer(Verification::Status::used);
}

db::Status Vouchers::count_failure(std::string_view source, std::string_view merchant_id,
                                  std::string_view why, const Actor& actor, Time now,
                                  std::string* locked_until) {
  auto add = db_.prepare(
      "INSERT INTO verify_failures(msisdn, merchant_id, at, reason) VALUES (?, ?, ?, ?)");
  if (auto s = add.bind(1, source).bind(2, merchant_id).bind(3, iso_time(now)).bind(4, why).run();
      !s.ok())
    return s;
  // What came before the last lock's end (or an operator's unlock) is paid
  // for: the window counts from there (a failure in the lock's last second
  // was refused unchecked, so none is there), the day from the unlock.
  std::string window_from = iso_time(now - std::chrono::minutes(campaign_.guard_window_minutes));
  std::string day_from = iso_time(now - std::chrono::hours(24));
  auto last = db_.prepare(
      "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', until, '-1 second'), COALESCE(cleared_at, '') "
      "FROM merchant_lockouts WHERE merchant_id = ?");
  last.bind(1, merchant_id);
  switch (last.step()) {
    case db::StepResult::row:
      window_from = std::max(window_from, last.column_text(0));
      day_from = std::max(day_from, last.column_text(1));
      break;
    case db::StepResult::done: break;
    case db::StepResult::error: return last.status();
  }
  auto count = db_.prepare("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = ? AND at > ?");
  db::Status count_status;
  auto counted = [&](const std::string& from) -> std::optional<std::int64_t> {
    count.reset();
    count.bind(1, merchant_id).bind(2, from);
    switch (count.step()) {
      case db::StepResult::row: return count.column_int(0);
      case db::StepResult::done: count_status = {1, "COUNT gave no row"}; break;
      case db::StepResult::error: count_status = count.status(); break;
    }
    return std::nullopt;
  };

  std::string until;
  std::int64_t failures = 0;
  const char* reason = "";
  if (campaign_.guard_failures > 0) {
    const auto n = counted(window_from);
    if (!n) return count_status;
    if (*n >= campaign_.guard_failures) {
      until = iso_time(now + std::chrono::minutes(campaign_.guard_lockout_minutes));
      failures = *n;
      reason = "window";
    }
  }
  if (campaign_.guard_daily_failures > 0) {
    const auto n = counted(day_from);
    if (!n) return count_status;
    if (*n >= campaign_.guard_daily_failures) {
      // Until the day's count falls below the cap again: a day after the
      // failure whose ageing out brings it there. So a merchant gets at most
      // the cap in any 24 hours, however it spreads its tries.
      auto oldest = db_.prepare(
          "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', at, '+1 day') FROM verify_failures WHERE "
          "merchant_id = ? AND at > ? ORDER BY at LIMIT 1 OFFSET ?");
      oldest.bind(1, merchant_id).bind(2, day_from).bind(3, *n - campaign_.guard_daily_failures);
      switch (oldest.step()) {
        case db::StepResult::row: break;
        case db::StepResult::done: return db::Status{1, "no failure to age out"};
        case db::StepResult::error: return oldest.status();
      }
      if (oldest.column_text(0) > until) {
        until = oldest.column_text(0);
        failures = *n;
        reason = "daily";
      }
    }
  }
  if (until.empty()) return {};

  auto lock = db_.prepare(
      "INSERT INTO merchant_lockouts(merchant_id, since, until, failures, reason) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT(merchant_id) DO UPDATE SET since = excluded.since, "
      "until = excluded.until, failures = excluded.failures, reason = excluded.reason");
  if (auto s = lock.bind(1, merchant_id).bind(2, iso_time(now)).bind(3, until).bind(4, failures)
                   .bind(5, reason).run();
      !s.ok())
    return s;
  *locked_until = until;
  return record_event(db_, "merchant_locked", std::nullopt, actor,
                      fmt::format("merchant {} after {} wrong codes ({}), the last from {}, until {}",
                                  merchant_id, failures,
                                  std::string_view(reason) == "daily" ? "the day's cap" : "at once",
                                  source, until));
}

}  // namespace giftgate
