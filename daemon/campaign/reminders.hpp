// Reminders before a voucher expires: members forget vouchers until they
// lapse, so an unused one is announced once, reminders.days_before its
// expiry, from the voucher_reminder template. Knows nothing of PDUs or of
// the daemon's loop: giftgated calls step() while it says there is more.
//
// The contract (the reminders section of the configuration, read at each
// step, so a SIGHUP applies from the next one):
// - A voucher is reminded at most once, ever: vouchers.reminded_at is set
//   in the transaction that queues its message, and only vouchers without
//   it are looked at. A step cut short by an error commits nothing.
// - Only a voucher still unused (issued; never used or void) whose expiry
//   is after now and at most days_before days away is due; the soonest
//   expiry goes first.
// - Nothing is queued outside reminders.hours (wall-clock, in the campaign's
//   zone) or while reminders are not enabled; what is due then waits for
//   the next allowed hour, or lapses with its voucher.
// - With respect_opt_out a member who opted out (TD) gets none: the voucher
//   is marked reminded all the same, with no message, so it is not looked
//   at again (an opt-in later does not bring its reminder back).
// - The message is an outbox message of priority bulk (it goes only with
//   the capacity replies leave), in the member's language, with the
//   voucher's code (giftctl voucher lists it in the voucher's timeline) and
//   the member. As a reply, it records no event: the outbox row is its
//   history.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

class Reminders {
 public:
  Reminders(db::Database& db, const CampaignConfig& config,
            std::shared_ptr<const Templates> templates);
  // New templates (reload): messages already queued keep their text.
  void set_templates(std::shared_ptr<const Templates> templates) {
    templates_ = std::move(templates);
  }

  struct Step {
    int queued = 0;     // reminders queued
    int skipped = 0;    // vouchers of opted-out members marked without one (respect_opt_out)
    bool more = false;  // more are due now than `limit` took: step again
    db::Status status;  // not ok: nothing of this step was committed
  };
  // Queues up to `limit` reminders due at `now` (see the contract), in one
  // transaction; nothing outside reminders.hours or while disabled.
  Step step(Time now, std::size_t limit);

  // The search for due vouchers: ?1 now, ?2 the horizon (now + days_before),
  // ?3 the rows wanted. Public so a test can read its query plan.
  //
  // The partial index vouchers_to_remind holds only the unused, unreminded
  // vouchers, by expiry (then rowid), so the search starts at now and stops
  // at the horizon however many vouchers were used, reminded or left to
  // lapse before, and comes in the order wanted without a sort: ordered by
  // code instead, every voucher sharing one expiry (campaign.
  // vouchers_expire_at gives all the same) would be sorted before the first
  // row. INDEXED BY keeps it so: without the index, or with a WHERE the
  // index does not cover, the statement does not prepare, instead of
  // quietly scanning every voucher.
  static constexpr std::string_view kDueSql =
      "SELECT v.code, v.tier, v.face_value, v.expires_at, v.member_id, m.msisdn, m.language, "
      "m.care_opt_out FROM vouchers v INDEXED BY vouchers_to_remind JOIN members m ON m.id = "
      "v.member_id WHERE v.state = 'issued' AND v.reminded_at IS NULL AND v.expires_at > ?1 AND "
      "v.expires_at <= ?2 ORDER BY v.expires_at, v.rowid LIMIT ?3";

 private:
  db::Database& db_;
  const CampaignConfig& config_;
  std::shared_ptr<const Templates> templates_;
};

// A voucher used or voided: its reminder, if one still waits in the outbox,
// is expired, not sent. Part of the caller's transaction.
db::Status withdraw_reminder(db::Database& db, const std::string& code, Time now);

}  // namespace giftgate
