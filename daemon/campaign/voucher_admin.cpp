// Operators' actions on the campaign: stock, merchants, and corrections to
// single vouchers. Each is one transaction and one entry in the history.
#include <fmt/format.h>

#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/reminders.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

bool Vouchers::set_stock(std::string_view tier, std::string_view city, std::int64_t quantity,
                         const Actor& actor) {
  if (quantity < 0 || !campaign_.tier(tier) || city.empty()) return false;
  const std::string name = campaign_.tier(tier)->name;
  db::Transaction tx(db_);
  auto set = db_.prepare(
      "INSERT INTO stock(tier, city, quantity) VALUES (?, ?, ?) "
      "ON CONFLICT(tier, city) DO UPDATE SET quantity = excluded.quantity");
  auto s = tx.begun();
  if (s.ok()) s = set.bind(1, name).bind(2, city).bind(3, quantity).run();
  if (s.ok())
    s = record_event(db_, "stock_set", std::nullopt, actor,
                     fmt::format("tier {} city {} quantity {}", name, city, quantity));
  if (s.ok()) s = tx.commit();
  if (!s.ok()) last_error_ = s.message;
  return s.ok();
}

std::optional<std::int64_t> Vouchers::stock(std::string_view tier, std::string_view city) {
  const Tier* t = campaign_.tier(tier);
  if (!t) return std::nullopt;
  auto q = db_.prepare("SELECT quantity FROM stock WHERE tier = ? AND city = ?");
  q.bind(1, t->name).bind(2, city);
  switch (q.step()) {
    case db::StepResult::row: return q.column_int(0);
    case db::StepResult::done: break;
    case db::StepResult::error: last_error_ = q.status().message; break;
  }
  return std::nullopt;
}

bool Vouchers::add_merchant(const Merchant& m, const Actor& actor) {
  db::Transaction tx(db_);
  auto s = tx.begun();
  auto insert = db_.prepare(
      "INSERT INTO merchants(id, name, city, kind, level) VALUES (?, ?, ?, ?, ?)");
  if (s.ok())
    s = insert.bind(1, m.id).bind(2, m.name).bind(3, m.city).bind(4, m.kind).bind(5, m.level).run();
  auto phone = db_.prepare("INSERT INTO merchant_phones(msisdn, merchant_id) VALUES (?, ?)");
  for (const auto& number : m.phones) {
    if (!s.ok()) break;
    phone.reset();
    s = phone.bind(1, number).bind(2, m.id).run();
  }
  auto offer = db_.prepare("INSERT INTO merchant_offers(merchant_id, tier, offer) VALUES (?, ?, ?)");
  for (const auto& [tier, text] : m.offers) {
    if (!s.ok()) break;
    offer.reset();
    s = offer.bind(1, m.id).bind(2, tier).bind(3, text).run();
  }
  if (s.ok()) s = record_event(db_, "merchant_added", std::nullopt, actor, m.id);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) last_error_ = s.message;
  return s.ok();
}

std::string offers_line(const std::vector<std::pair<std::string, std::string>>& offers) {
  std::string line;
  for (const auto& [tier, text] : offers) line += (line.empty() ? "" : "; ") + tier + ": " + text;
  return line;
}

namespace {

// The merchants a query selects (id, name, city, kind, level, disabled),
// each with its offers and, if asked, its numbers; the status of the reads
// (a list cut short by an error is no list).
db::Status read_merchants(db::Database& db, db::Statement& q, bool phones,
                          std::vector<Merchant>& out) {
  auto s = q.each_row([&] {
    out.push_back({q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3),
                   q.column_text(4), {}, {}, q.column_int(5) != 0});
  });
  auto offers =
      db.prepare("SELECT tier, offer FROM merchant_offers WHERE merchant_id = ? ORDER BY tier");
  auto numbers =
      db.prepare("SELECT msisdn FROM merchant_phones WHERE merchant_id = ? ORDER BY msisdn");
  for (auto& m : out) {
    if (!s.ok()) break;
    offers.reset();
    offers.bind(1, m.id);
    s = offers.each_row(
        [&] { m.offers.emplace_back(offers.column_text(0), offers.column_text(1)); });
    if (!s.ok() || !phones) continue;
    numbers.reset();
    numbers.bind(1, m.id);
    s = numbers.each_row([&] { m.phones.push_back(numbers.column_text(0)); });
  }
  return s;
}

}  // namespace

std::optional<std::vector<Merchant>> Vouchers::merchants_in(std::string_view city,
                                                            std::string_view kind) {
  auto q = db_.prepare(
      "SELECT id, name, city, kind, level, disabled FROM merchants WHERE city = ? AND "
      "(? = '' OR kind = ?) AND disabled = 0 "
      "ORDER BY CASE level WHEN 'high' THEN 0 WHEN 'middle' THEN 1 ELSE 2 END, name, id");
  q.bind(1, city).bind(2, kind).bind(3, kind);
  std::vector<Merchant> out;
  if (const auto s = read_merchants(db_, q, false, out); !s.ok()) {
    last_error_ = s.message;
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<Merchant>> Vouchers::all_merchants() {
  auto q = db_.prepare("SELECT id, name, city, kind, level, disabled FROM merchants ORDER BY id");
  std::vector<Merchant> out;
  if (const auto s = read_merchants(db_, q, true, out); !s.ok()) {
    last_error_ = s.message;
    return std::nullopt;
  }
  return out;
}

AdminResult Vouchers::set_merchant_disabled(std::string_view id, bool disabled,
                                            std::string_view reason, const Actor& actor) {
  if (reason.empty()) return AdminResult::invalid;
  db::Transaction tx(db_);
  auto s = tx.begun();
  if (!s.ok()) return fail_admin(s);
  auto exists = db_.prepare("SELECT 1 FROM merchants WHERE id = ?");
  switch (exists.bind(1, id).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return AdminResult::unknown_code;
    case db::StepResult::error: return fail_admin(exists.status());
  }
  auto set = db_.prepare("UPDATE merchants SET disabled = ? WHERE id = ? AND disabled <> ?");
  if (s = set.bind(1, std::int64_t{disabled}).bind(2, id).bind(3, std::int64_t{disabled}).run();
      !s.ok())
    return fail_admin(s);
  if (db_.changes() != 1) return AdminResult::wrong_state;
  s = record_event(db_, disabled ? "merchant_disabled" : "merchant_enabled", std::nullopt, actor,
                   fmt::format("merchant {}: {}", id, reason));
  if (s.ok()) s = tx.commit();
  return s.ok() ? AdminResult::ok : fail_admin(s);
}

NumberRemoval Vouchers::remove_merchant_number(std::string_view id, std::string_view msisdn,
                                               std::string_view reason, const Actor& actor) {
  if (reason.empty()) return NumberRemoval::invalid;
  const auto failed = [&](const db::Status& s) {
    last_error_ = s.message;
    return NumberRemoval::failed;
  };
  db::Transaction tx(db_);
  auto s = tx.begun();
  if (!s.ok()) return failed(s);
  auto merchant = db_.prepare("SELECT disabled FROM merchants WHERE id = ?");
  switch (merchant.bind(1, id).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return NumberRemoval::unknown_merchant;
    case db::StepResult::error: return failed(merchant.status());
  }
  const bool disabled = merchant.column_int(0) != 0;
  auto numbers = db_.prepare(
      "SELECT COUNT(*), COALESCE(SUM(msisdn = ?), 0) FROM merchant_phones WHERE merchant_id = ?");
  numbers.bind(1, msisdn).bind(2, id);
  if (numbers.step() != db::StepResult::row)
    return failed(numbers.status().ok() ? db::Status{1, "COUNT gave no row"} : numbers.status());
  const std::int64_t count = numbers.column_int(0);
  const bool its = numbers.column_int(1) == 1;
  numbers.reset();
  if (!its) return NumberRemoval::not_its_number;
  // A merchant members are sent to must be able to verify their vouchers;
  // a disabled one may lose its last number (to give it to another).
  if (count == 1 && !disabled) return NumberRemoval::last_number;
  auto remove = db_.prepare("DELETE FROM merchant_phones WHERE msisdn = ? AND merchant_id = ?");
  if (s = remove.bind(1, msisdn).bind(2, id).run(); !s.ok()) return failed(s);
  s = record_event(db_, "merchant_number_removed", std::nullopt, actor,
                   fmt::format("merchant {} number {}: {}", id, msisdn, reason));
  if (s.ok()) s = tx.commit();
  return s.ok() ? NumberRemoval::removed : failed(s);
}

AdminResult Vouchers::void_voucher(std::string_view code, std::string_view reason, bool refund,
                                   const Actor& actor) {
  if (reason.empty()) return AdminResult::invalid;
  db::Transaction tx(db_);
  auto s = tx.begun();
  if (!s.ok()) return fail_admin(s);
  auto voucher = db_.prepare("SELECT member_id, price, state FROM vouchers WHERE code = ?");
  voucher.bind(1, code);
  switch (voucher.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return AdminResult::unknown_code;
    case db::StepResult::error: return fail_admin(voucher.status());
  }
  const std::int64_t member_id = voucher.column_int(0);
  const std::int64_t price = voucher.column_int(1);
  auto set = db_.prepare("UPDATE vouchers SET state = 'void' WHERE code = ? AND state = 'issued'");
  if (s = set.bind(1, code).run(); !s.ok()) return fail_admin(s);
  if (db_.changes() != 1) return AdminResult::wrong_state;
  if (s = withdraw_reminder(db_, std::string(code),
                            std::chrono::time_point_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now()));
      !s.ok())
    return fail_admin(s);
  if (refund) {
    Ledger ledger(db_);
    const auto r = ledger.add_points(member_id, price, fmt::format("voucher voided: {}", reason),
                                     fmt::format("void:{}", code), actor, campaign_.points);
    if (r == Ledger::Result::out_of_bounds) {
      last_error_ = ledger.last_error();
      return AdminResult::over_limit;
    }
    if (r != Ledger::Result::ok) return fail_admin({1, ledger.last_error()});
  }
  s = record_event(db_, "voucher_voided", member_id, actor,
                   fmt::format("{}{}", reason, refund ? " (points refunded)" : ""),
                   std::string(code));
  if (s.ok()) s = tx.commit();
  return s.ok() ? AdminResult::ok : fail_admin(s);
}

AdminResult Vouchers::reinstate(std::string_view code, std::string_view reason,
                                const Actor& actor) {
  if (reason.empty()) return AdminResult::invalid;
  db::Transaction tx(db_);
  auto s = tx.begun();
  if (!s.ok()) return fail_admin(s);
  auto voucher = db_.prepare("SELECT member_id, used_by, used_at FROM vouchers WHERE code = ?");
  voucher.bind(1, code);
  switch (voucher.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return AdminResult::unknown_code;
    case db::StepResult::error: return fail_admin(voucher.status());
  }
  const std::int64_t member_id = voucher.column_int(0);
  const std::string was = fmt::format("was used at {} by merchant {}", voucher.column_text(2),
                                      voucher.column_text(1));
  auto set = db_.prepare(
      "UPDATE vouchers SET state = 'issued', used_at = NULL, used_by = NULL "
      "WHERE code = ? AND state = 'used'");
  if (s = set.bind(1, code).run(); !s.ok()) return fail_admin(s);
  if (db_.changes() != 1) return AdminResult::wrong_state;
  s = record_event(db_, "voucher_reinstated", member_id, actor,
                   fmt::format("{} ({})", reason, was), std::string(code));
  if (s.ok()) s = tx.commit();
  return s.ok() ? AdminResult::ok : fail_admin(s);
}

std::optional<std::vector<Lockout>> Vouchers::lockouts(Time now) {
  auto q = db_.prepare(
      "SELECT merchant_id, since, until, failures, reason FROM merchant_lockouts WHERE until > ? "
      "ORDER BY until");
  q.bind(1, iso_time(now));
  std::vector<Lockout> out;
  const auto s = q.each_row([&] {
    out.push_back({q.column_text(0), q.column_text(1), q.column_text(2), q.column_int(3),
                   q.column_text(4)});
  });
  if (!s.ok()) {
    last_error_ = s.message;
    return std::nullopt;
  }
  return out;
}

AdminResult Vouchers::unlock(std::string_view merchant, std::string_view reason,
                             const Actor& actor, Time now) {
  if (reason.empty()) return AdminResult::invalid;
  db::Transaction tx(db_);
  auto s = tx.begun();
  if (!s.ok()) return fail_admin(s);
  // A merchant's id, or one of its numbers.
  auto which = db_.prepare(
      "SELECT id FROM merchants WHERE id = ?1 UNION ALL "
      "SELECT merchant_id FROM merchant_phones WHERE msisdn = ?1 LIMIT 1");
  which.bind(1, merchant);
  switch (which.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return AdminResult::wrong_state;
    case db::StepResult::error: return fail_admin(which.status());
  }
  const std::string id = which.column_text(0);
  auto lift = db_.prepare(
      "UPDATE merchant_lockouts SET until = ?1, cleared_at = ?1 WHERE merchant_id = ?2 AND "
      "until > ?1");
  if (s = lift.bind(1, iso_time(now)).bind(2, id).run(); !s.ok()) return fail_admin(s);
  if (db_.changes() != 1) return AdminResult::wrong_state;
  s = record_event(db_, "merchant_unlocked", std::nullopt, actor,
                   fmt::format("merchant {}: {}", id, reason));
  if (s.ok()) s = tx.commit();
  return s.ok() ? AdminResult::ok : fail_admin(s);
}

std::optional<std::vector<MerchantVerification>> Vouchers::verifications_of(
    std::string_view merchant_id, Time from, Time to) {
  // Through vouchers_used_by: a reinstated voucher has lost its used_by, so
  // it is settled by no one.
  auto q = db_.prepare(
      "SELECT v.code, v.tier, v.face_value, v.used_at, m.msisdn FROM vouchers v JOIN members m "
      "ON m.id = v.member_id WHERE v.used_by = ? AND v.used_at >= ? AND v.used_at < ? "
      "ORDER BY v.used_at, v.code");
  q.bind(1, merchant_id).bind(2, iso_time(from)).bind(3, iso_time(to));
  std::vector<MerchantVerification> out;
  const auto s = q.each_row([&] {
    out.push_back({q.column_text(0), q.column_text(1), q.column_int(2), q.column_text(3),
                   mask_msisdn(q.column_text(4))});
  });
  if (!s.ok()) {
    last_error_ = s.message;
    return std::nullopt;
  }
  return out;
}

}  // namespace giftgate
