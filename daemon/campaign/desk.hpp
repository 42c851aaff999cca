// The service desk's actions on a member or a voucher, whichever channel
// the agent works in (the HTTP API's desk key, the console): each names a
// reason and is recorded with the agent, so a rule and its record are
// written once. Who may do which is Agents' may() (agents.hpp); the desk
// itself checks only what every caller must give.
//
// The contract:
// - Each call runs inside the caller's transaction (the gateway's batch,
//   or giftctl's): what it changes commits or is lost with that.
// - The reason is 1 to 200 printable characters (invalid otherwise), kept
//   in the event history with the actor.
// - Nothing is done twice by a repeated call where the action says so:
//   redeem_for is idempotent by `request`, a void or reinstate answers
//   wrong_state the second time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

// Whether `reason` is one the desk accepts: 1 to 200 characters, valid
// UTF-8, no control characters.
bool good_desk_reason(std::string_view reason);

class Desk {
 public:
  Desk(db::Database& db, const CampaignConfig& config, Service& service, Outbox& outbox)
      : db_(db), config_(config), service_(service), outbox_(outbox) {}

  // The voucher's SMS again (event desk_resend).
  Outbox::Resent resend(std::string_view code, std::string_view reason, const Actor& actor, Time now);
  // Void an unused voucher, its points given back when `refund`.
  AdminResult void_voucher(std::string_view code, std::string_view reason, bool refund,
                           const Actor& actor);
  // Make a wrongly used voucher usable again.
  AdminResult reinstate(std::string_view code, std::string_view reason, const Actor& actor);
  // Redeem `tier` for the member (event desk_redeem on an issue); once per `request`.
  Redemption redeem_for(std::string_view msisdn, std::string_view tier, const std::string& request,
                        std::string_view reason, const Actor& actor, Time now);
  // Add (or, negative, take) points by hand, within campaign.points' bounds.
  Ledger::Result correct_points(std::string_view msisdn, std::int64_t delta, std::string_view reason,
                                const Actor& actor);

  // The database's or the bounds' message after a failed call.
  const std::string& last_error() const { return last_error_; }

 private:
  db::Database& db_;
  const CampaignConfig& config_;
  Service& service_;
  Outbox& outbox_;
  std::string last_error_;
};

}  // namespace giftgate
