// The service desk's actions: each checks the reason, does the domain's
// change and records who did it and why, in one savepoint of the caller's
// transaction, so a change is never kept without its record.
#include "daemon/campaign/desk.hpp"

#include <fmt/format.h>

#include "daemon/campaign/table.hpp"
#include "daemon/campaign/voucher_code.hpp"

namespace giftgate {

namespace {

constexpr std::size_t kMostReasonCharacters = 200;

// Characters, not bytes: a Chinese reason is three bytes a character.
std::size_t code_points(std::string_view utf8) {
  std::size_t n = 0;
  for (const char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

const char* const kBadReason = "the reason must be 1 to 200 printable characters";

}  // namespace

bool good_desk_reason(std::string_view reason) {
  // has_unprintable also refuses text that is not UTF-8, so counting lead
  // bytes afterwards counts characters.
  return !reason.empty() && !has_unprintable(reason) &&
         code_points(reason) <= kMostReasonCharacters;
}

Outbox::Resent Desk::resend(std::string_view code, std::string_view reason, const Actor& actor,
                            Time now) {
  Outbox::Resent out;
  if (!good_desk_reason(reason)) {
    // Resent has no "invalid": callers check good_desk_reason first, so a
    // failure here is theirs; it still changes nothing.
    last_error_ = kBadReason;
    out.error = last_error_;
    return out;
  }
  // Only a voucher's code: the outbox would also take a message's id.
  std::string canonical;
  if (check_voucher_code(code, &canonical) != CodeCheck::ok) {
    out.status = Outbox::Resent::Status::not_found;
    return out;
  }
  db::Transaction tx(db_);
  if (!tx.begun().ok()) {
    last_error_ = out.error = tx.begun().message;
    return out;
  }
  out = outbox_.resend(canonical, actor, now);
  if (out.status != Outbox::Resent::Status::queued) {
    last_error_ = out.error;
    return out;
  }
  // The owner, so the resend shows in the member's history too.
  auto owner = db_.prepare("SELECT member_id FROM vouchers WHERE code = ?");
  owner.bind(1, canonical);
  std::optional<std::int64_t> member_id;
  switch (owner.step()) {
    case db::StepResult::row: member_id = owner.column_int(0); break;
    case db::StepResult::done: break;
    case db::StepResult::error:
      out.status = Outbox::Resent::Status::failed;
      last_error_ = out.error = owner.status().message;
      return out;
  }
  auto s = record_event(db_, "desk_resend", member_id, actor, reason, canonical);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    out.status = Outbox::Resent::Status::failed;
    last_error_ = out.error = s.message;
  }
  return out;
}

AdminResult Desk::void_voucher(std::string_view code, std::string_view reason, bool refund,
                               const Actor& actor) {
  if (!good_desk_reason(reason)) {
    last_error_ = kBadReason;
    return AdminResult::invalid;
  }
  // Vouchers records voucher_voided with the actor and reason itself.
  Vouchers vouchers(db_, config_.campaign);
  const auto r = vouchers.void_voucher(code, reason, refund, actor);
  last_error_ = vouchers.last_error();
  return r;
}

AdminResult Desk::reinstate(std::string_view code, std::string_view reason, const Actor& actor) {
  if (!good_desk_reason(reason)) {
    last_error_ = kBadReason;
    return AdminResult::invalid;
  }
  Vouchers vouchers(db_, config_.campaign);
  const auto r = vouchers.reinstate(code, reason, actor);
  last_error_ = vouchers.last_error();
  return r;
}

Redemption Desk::redeem_for(std::string_view msisdn, std::string_view tier,
                            const std::string& request, std::string_view reason,
                            const Actor& actor, Time now) {
  Redemption r;
  if (!good_desk_reason(reason)) {
    // As resend: Redemption has no "invalid", callers check first.
    last_error_ = r.error = kBadReason;
    return r;
  }
  db::Transaction tx(db_);
  if (!tx.begun().ok()) {
    last_error_ = r.error = tx.begun().message;
    return r;
  }
  r = service_.redeem_for(msisdn, tier, request, actor, now);
  // A repeated request (already_issued) was recorded with the first.
  if (r.status != Redemption::Status::issued) {
    last_error_ = r.error;
    return r;
  }
  db::Status found;
  const auto member = Ledger(db_).find_member(msisdn, &found);
  auto s = found;
  if (s.ok() && !member) s = {1, "the member who redeemed is gone"};
  if (s.ok()) s = record_event(db_, "desk_redeem", member->id, actor, reason, r.code);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    // The savepoint rolls back with tx: no voucher without its record.
    Redemption failed;
    failed.status = Redemption::Status::failed;
    last_error_ = failed.error = s.message;
    return failed;
  }
  return r;
}

Ledger::Result Desk::correct_points(std::string_view msisdn, std::int64_t delta,
                                    std::string_view reason, const Actor& actor) {
  if (!good_desk_reason(reason) || delta == 0) {
    last_error_ = delta == 0 ? "a correction of 0 points changes nothing" : kBadReason;
    return Ledger::Result::invalid;
  }
  Ledger ledger(db_);
  db::Status found;
  const auto member = ledger.find_member(msisdn, &found);
  if (!found.ok()) {
    last_error_ = found.message;
    return Ledger::Result::failed;
  }
  if (!member) return Ledger::Result::unknown_member;
  // add_points checks the bounds with checked arithmetic and records the
  // "points" event with the actor and this text.
  const auto r = ledger.add_points(member->id, delta, fmt::format("correction: {}", reason),
                                   std::nullopt, actor, config_.campaign.points);
  last_error_ = ledger.last_error();
  return r;
}

}  // namespace giftgate
