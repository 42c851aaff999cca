// The Service's calls for the channels besides SMS and USSD (the HTTP API:
// a merchant's terminal, the desk, the website). Each is the SMS path's
// rule, reached without an MO: no inbox row, no route, and the SMS it
// causes queued in the same transaction as the change it tells of.
#include "daemon/campaign/service.hpp"

namespace giftgate {
namespace {

Verification failed_verification(const db::Status& s) {
  Verification v;
  v.status = Verification::Status::failed;
  v.error = s.message;
  return v;
}

Redemption failed_redemption(const db::Status& s) {
  Redemption r;
  r.status = Redemption::Status::failed;
  r.error = s.message;
  return r;
}

}  // namespace

Verification Service::verify_at_terminal(std::string_view merchant_id, std::string_view terminal,
                                         std::string_view typed_code, const Actor& actor,
                                         Time now) {
  // The voucher's use and its owner's note commit together or not at all.
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_verification(tx.begun());
  const std::string source = "api:" + std::string(terminal);
  auto v = vouchers_.verify_at(merchant_id, source, typed_code, actor, now);
  if (v.status == Verification::Status::failed) return v;
  if (v.status == Verification::Status::used) {
    std::vector<Reply> notes;
    auto s = add_used_note(v, now, notes);
    for (const auto& note : notes)
      if (s.ok()) s = queue(note, std::nullopt, now, {});
    if (!s.ok()) return failed_verification(s);
  }
  // A refusal commits too: the failure it counted must stick.
  if (const auto c = tx.commit(); !c.ok()) return failed_verification(c);
  return v;
}

Redemption Service::redeem_for(std::string_view msisdn, std::string_view tier,
                               const std::string& request, const Actor& actor, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return failed_redemption(tx.begun());
  auto r = vouchers_.redeem(msisdn, tier, request, actor, now);
  // The same request again (already_issued) had its SMS with the first; a
  // refusal changed nothing and is answered by the caller, not by SMS.
  if (r.status != Redemption::Status::issued) return r;
  db::Status found;
  const auto member = Ledger(db_).find_member(msisdn, &found);
  if (!found.ok()) return failed_redemption(found);
  // Just redeemed by this number, in this transaction.
  if (!member) return failed_redemption({1, "the member who redeemed is gone"});
  const Reply sms{member->msisdn, member->id, "voucher", member->language, voucher_values(r),
                  r.code,         std::nullopt, std::nullopt};
  auto s = queue(sms, std::nullopt, now, {});
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return failed_redemption(s);
  return r;
}

db::Status Service::notify(const std::string& msisdn, std::optional<std::int64_t> member_id,
                           const std::string& language, const std::string& message,
                           const TemplateValues& values, Time now, std::int64_t* id) {
  // A savepoint, so the fair_at read and the insert are one step even when
  // the caller has no transaction open.
  db::Transaction tx(db_);
  if (!tx.begun()) return tx.begun();
  const Reply r{msisdn,       member_id,   message, language, values, std::nullopt,
                std::nullopt, std::nullopt};
  auto s = queue(r, std::nullopt, now, {});
  const std::int64_t queued = db_.last_insert_id();
  if (s.ok()) s = tx.commit();
  if (s.ok() && id) *id = queued;
  return s;
}

}  // namespace giftgate
