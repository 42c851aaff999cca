// Redeeming points for vouchers and verifying vouchers at merchants: the two
// changes that must never happen twice. Points deducted and voucher issued
// are one transaction; a voucher goes from issued to used exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/ledger.hpp"
#include "daemon/sqlite.hpp"

namespace giftgate {

using Time = std::chrono::sys_seconds;

// "2026-11-25T03:45:00Z": how times are stored (text compares in time order).
std::string iso_time(Time t);

// A voucher tier: what it is worth at the merchant and what it costs.
struct Tier {
  std::string name;  // "A", "B", "C"
  std::int64_t face_value = 0;  // yuan
  std::int64_t price = 0;       // points
};

struct Campaign {
  std::vector<Tier> tiers;
  Time start{};  // redemptions are taken from start ...
  Time end{};    // ... until just before end
  std::optional<Time> vouchers_expire_at;  // a fixed date for every voucher, or
  int voucher_days = 30;                   // this many days after issue

  // The tier of that name (case-insensitive), or nullptr.
  const Tier* tier(std::string_view name) const;
};

struct Redemption {
  enum class Status {
    issued,           // points deducted, voucher issued
    already_issued,   // this request was redeemed before: the same voucher, nothing twice
    not_started,      // before the campaign window
    ended,            // at or after its end
    unknown_member,
    unknown_tier,
    insufficient_points,
    out_of_stock,     // none left of that tier in the member's city
    failed,           // the database refused (busy, disk full): nothing changed
  };
  Status status = Status::failed;
  std::string code;
  std::string tier;
  std::int64_t price = 0;
  std::int64_t face_value = 0;
  std::int64_t balance = 0;  // after the redemption (or as it stands, when refused)
  std::string expires_at;
  std::string error;  // the database's message when failed
};

struct Verification {
  enum class Status {
    used,              // verified now, and marked used
    not_a_merchant,    // the number is not a registered merchant's
    bad_format,        // cannot be a voucher code
    bad_check_digit,   // a mistyped code
    unknown_code,
    already_used,
    voided,
    expired,
    wrong_city,        // issued for another city than the merchant's
    failed,
  };
  Status status = Status::failed;
  std::string code;
  std::string tier;
  std::int64_t face_value = 0;
  std::string member_msisdn;
  std::string merchant_id;
  std::string used_at;  // for already_used: when it was
  std::string error;
};

struct Merchant {
  std::string id;
  std::string name;
  std::string city;
  std::string kind;   // ktv, cinema
  std::string level;  // high, middle, low
  std::vector<std::string> phones;  // normal-form numbers allowed to verify
};

class Vouchers {
 public:
  Vouchers(db::Database& db, Campaign campaign) : db_(db), campaign_(std::move(campaign)) {}

  // Redeems `tier` for the member. `request` names what asked (an MO's id, a
  // USSD session): the same request a second time returns the first voucher.
  Redemption redeem(std::string_view msisdn, std::string_view tier, const std::string& request,
                    const Actor& actor, Time now);

  // A merchant's number presents a code (as typed).
  Verification verify(std::string_view merchant_msisdn, std::string_view typed_code,
                      const Actor& actor, Time now);

  // Sets the stock of a tier in a city (an operator action, recorded).
  bool set_stock(std::string_view tier, std::string_view city, std::int64_t quantity,
                 const Actor& actor);
  std::optional<std::int64_t> stock(std::string_view tier, std::string_view city);

  bool add_merchant(const Merchant& merchant, const Actor& actor);

  const Campaign& campaign() const { return campaign_; }
  const std::string& last_error() const { return last_error_; }

 private:
  db::Database& db_;
  Campaign campaign_;
  std::string last_error_;
};

}  // namespace giftgate
