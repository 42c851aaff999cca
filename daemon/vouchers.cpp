#include "daemon/vouchers.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "daemon/voucher_code.hpp"

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

// How many fresh codes to draw when one collides with an existing voucher.
constexpr int kCodeAttempts = 8;

}  // namespace

std::string iso_time(Time t) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t); }

const Tier* Campaign::tier(std::string_view name) const {
  for (const auto& t : tiers)
    if (same_name(t.name, name)) return &t;
  return nullptr;
}

Redemption Vouchers::redeem(std::string_view msisdn, std::string_view tier_name,
                            const std::string& request, const Actor& actor, Time now) {
  auto failed = [&](const db::Status& s) {
    Redemption r;
    r.status = Redemption::Status::failed;
    r.error = s.message;
    last_error_ = s.message;
    return r;
  };

  db::Transaction tx(db_);
  if (!tx.begun()) return failed(tx.begun());
  Ledger ledger(db_);

  // A redelivered request finds its voucher and changes nothing.
  auto previous = db_.prepare(
      "SELECT code, tier, price, face_value, expires_at, member_id FROM vouchers WHERE request = ?");
  previous.bind(1, request);
  if (previous.step()) {
    Redemption r;
    r.status = Redemption::Status::already_issued;
    r.code = previous.column_text(0);
    r.tier = previous.column_text(1);
    r.price = previous.column_int(2);
    r.face_value = previous.column_int(3);
    r.expires_at = previous.column_text(4);
    r.balance = ledger.balance(previous.column_int(5));
    return r;
  }

  if (now < campaign_.start) return refused(Redemption::Status::not_started);
  if (now >= campaign_.end) return refused(Redemption::Status::ended);
  const auto member = ledger.find_member(msisdn);
  if (!member) return refused(Redemption::Status::unknown_member);
  const Tier* tier = campaign_.tier(tier_name);
  const std::int64_t balance = ledger.balance(member->id);
  if (!tier) return refused(Redemption::Status::unknown_tier, balance);
  if (balance < tier->price) return refused(Redemption::Status::insufficient_points, balance);

  auto take = db_.prepare(
      "UPDATE stock SET quantity = quantity - 1 WHERE tier = ? AND city = ? AND quantity > 0");
  if (const auto s = take.bind(1, tier->name).bind(2, member->city).run(); !s.ok())
    return failed(s);
  if (db_.changes() != 1) return refused(Redemption::Status::out_of_stock, balance);

  const Time expires = campaign_.vouchers_expire_at
                           ? *campaign_.vouchers_expire_at
                           : now + std::chrono::days(campaign_.voucher_days);
  Redemption r;
  r.tier = tier->name;
  r.price = tier->price;
  r.face_value = tier->face_value;
  r.expires_at = iso_time(expires);
  auto insert = db_.prepare(
      "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, channel, request, "
      "issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (int attempt = 0; attempt < kCodeAttempts && r.code.empty(); ++attempt) {
    const auto code = generate_voucher_code();
    if (!code) return failed({1, "the random generator failed"});
    insert.reset();
    const auto s = insert.bind(1, *code)
                       .bind(2, member->id)
                       .bind(3, tier->name)
                       .bind(4, member->city)
                       .bind(5, tier->price)
                       .bind(6, tier->face_value)
                       .bind(7, actor.channel)
                       .bind(8, request.empty() ? std::optional<std::string>() : std::optional<std::string>(request))
                       .bind(9, iso_time(now))
                       .bind(10, r.expires_at)
                       .run();
    if (s.ok()) r.code = *code;
    else if (!s.constraint()) return failed(s);  // a colliding code: draw another
  }
  if (r.code.empty()) return failed({1, "no free voucher code after several draws"});

  const auto deducted = ledger.add_points(member->id, -tier->price,
                                          fmt::format("redeemed tier {}", tier->name),
                                          "redeem:" + r.code, actor);
  if (deducted != Ledger::Result::ok) return failed({1, ledger.last_error()});
  if (const auto e = record_event(db_, "voucher_issued", member->id, actor,
                                  fmt::format("tier {} {} yuan", tier->name, tier->face_value),
                                  r.code);
      !e.ok())
    return failed(e);
  if (const auto c = tx.commit(); !c.ok()) return failed(c);
  r.status = Redemption::Status::issued;
  r.balance = balance - tier->price;
  return r;
}

Verification Vouchers::verify(std::string_view merchant_msisdn, std::string_view typed_code,
                              const Actor& actor, Time now) {
  Verification v;
  auto result = [&](Verification::Status status) {
    v.status = status;
    return v;
  };
  auto failed = [&](const db::Status& s) {
    v.error = s.message;
    last_error_ = s.message;
    return result(Verification::Status::failed);
  };

  db::Transaction tx(db_);
  if (!tx.begun()) return failed(tx.begun());
  auto merchant = db_.prepare(
      "SELECT m.id, m.city FROM merchant_phones p JOIN merchants m ON m.id = p.merchant_id "
      "WHERE p.msisdn = ?");
  merchant.bind(1, merchant_msisdn);
  if (!merchant.step()) return result(Verification::Status::not_a_merchant);
  v.merchant_id = merchant.column_text(0);
  const std::string city = merchant.column_text(1);

  std::string code;
  switch (check_voucher_code(typed_code, &code)) {
    case CodeCheck::ok: break;
    case CodeCheck::bad_format: return result(Verification::Status::bad_format);
    case CodeCheck::bad_check_digit: return result(Verification::Status::bad_check_digit);
  }
  v.code = code;

  auto voucher = db_.prepare(
      "SELECT v.tier, v.face_value, v.city, v.state, v.expires_at, v.used_at, m.msisdn, "
      "v.member_id FROM vouchers v JOIN members m ON m.id = v.member_id WHERE v.code = ?");
  voucher.bind(1, code);
  if (!voucher.step()) return result(Verification::Status::unknown_code);
  v.tier = voucher.column_text(0);
  v.face_value = voucher.column_int(1);
  v.member_msisdn = voucher.column_text(6);
  const std::string state = voucher.column_text(3);
  if (state == "used") {
    v.used_at = voucher.column_text(5);
    return result(Verification::Status::already_used);
  }
  if (state == "void") return result(Verification::Status::voided);
  if (iso_time(now) >= voucher.column_text(4)) return result(Verification::Status::expired);
  if (voucher.column_text(2) != city) return result(Verification::Status::wrong_city);
  const std::int64_t member_id = voucher.column_int(7);

  // The state test in the WHERE clause is what makes "used" happen once.
  v.used_at = iso_time(now);
  auto use = db_.prepare(
      "UPDATE vouchers SET state = 'used', used_at = ?, used_by = ? "
      "WHERE code = ? AND state = 'issued'");
  if (const auto s = use.bind(1, v.used_at).bind(2, v.merchant_id).bind(3, code).run(); !s.ok())
    return failed(s);
  if (db_.changes() != 1) return result(Verification::Status::already_used);
  if (const auto e = record_event(db_, "voucher_used", member_id, actor,
                                  fmt::format("merchant {}", v.merchant_id), code);
      !e.ok())
    return failed(e);
  if (const auto c = tx.commit(); !c.ok()) return failed(c);
  return result(Verification::Status::used);
}

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
  if (!q.step()) return std::nullopt;
  return q.column_int(0);
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
  if (s.ok()) s = record_event(db_, "merchant_added", std::nullopt, actor, m.id);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) last_error_ = s.message;
  return s.ok();
}

}  // namespace giftgate
