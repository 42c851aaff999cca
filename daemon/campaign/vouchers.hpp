// Redeeming points for vouchers and verifying vouchers at merchants: the two
// changes that must never happen twice. Points deducted and voucher issued
// are one transaction; a voucher goes from issued to used exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/campaign/ledger.hpp"
#include "daemon/storage/sqlite.hpp"

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
  // With confirmation (minutes > 0) a request holds an offer and a
  // confirmation within this many minutes redeems it; 0 redeems at once.
  int confirm_minutes = 10;
  // The brute-force guard, per merchant (all its numbers together): this
  // many failed verifications within the window lock the merchant out of
  // verifying for lockout_minutes, and at most guard_daily_failures in any
  // 24 hours (0 turns either off).
  int guard_failures = 5;
  int guard_window_minutes = 10;
  int guard_lockout_minutes = 30;
  int guard_daily_failures = 20;
  // The bounds on every change of points and on every balance.
  PointLimits points;

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
    offered,          // held for confirmation until offer_expires_at; nothing deducted yet
    no_offer,         // a confirmation with no offer held
    offer_expired,    // a confirmation after the offer's minutes ran out
  };
  Status status = Status::failed;
  std::string code;
  std::string tier;
  std::int64_t price = 0;
  std::int64_t face_value = 0;
  std::int64_t balance = 0;  // after the redemption (or as it stands, when refused)
  std::string expires_at;
  std::string offer_expires_at;  // for offered: confirm before this
  std::string error;  // the database's message when failed
};

struct Verification {
  enum class Status {
    used,              // verified now, and marked used
    not_a_merchant,    // the number is not a registered merchant's
    merchant_disabled, // the number's merchant is disabled: nothing checked, nothing counted
    bad_format,        // cannot be a voucher code
    bad_check_digit,   // a mistyped code
    unknown_code,
    already_used,
    voided,
    expired,
    wrong_city,        // issued for another city (answered as unknown_code is)
    locked_out,        // too many failures from this merchant: try after locked_until
    failed,
  };
  Status status = Status::failed;
  std::string code;
  std::string tier;
  std::int64_t face_value = 0;
  std::string member_msisdn;
  std::string merchant_id;
  std::string used_at;  // for already_used: when it was
  std::string locked_until;  // for locked_out, and when this failure locked the merchant
  bool counted = false;      // a failure counted against the merchant's guard
  std::string error;
};

struct Merchant {
  std::string id;
  std::string name;
  std::string city;
  std::string kind;   // ktv, cinema
  std::string level;  // high, middle, low
  std::vector<std::string> phones;  // normal-form numbers allowed to verify
  std::vector<std::pair<std::string, std::string>> offers;  // tier -> what it buys here
  bool disabled = false;  // by an operator: verifies nothing, listed to no member
};

// A merchant's offers as members read them in the merchants list:
// "A: 5 hours; B: 2 hours".
std::string offers_line(const std::vector<std::pair<std::string, std::string>>& offers);

// The outcome of an operator's action on one voucher (or merchant).
enum class AdminResult {
  ok,
  unknown_code,  // no such voucher (or merchant)
  wrong_state,   // void needs an issued voucher, reinstate a used one; disable an enabled merchant
  invalid,      // no reason given
  over_limit,   // the refund would pass campaign.max_balance: nothing changed
  failed,
};

// The outcome of taking a number from a merchant.
enum class NumberRemoval {
  removed,
  unknown_merchant,
  not_its_number,  // the number is not one of that merchant's
  last_number,     // the only number of an enabled merchant: disable the merchant first
  invalid,         // no reason given
  failed,
};

// A merchant locked out of verifying by the brute-force guard.
struct Lockout {
  std::string merchant_id;
  std::string since;
  std::string until;
  std::int64_t failures = 0;
  std::string reason;  // window (too many at once) or daily (the day's cap)
};

// One voucher a merchant verified (settlement).
struct MerchantVerification {
  std::string code;
  std::string tier;
  std::int64_t face_value = 0;
  std::string used_at;  // ISO, UTC
  std::string member;   // the owner's number, masked (mask_msisdn)
};

class Vouchers {
 public:
  Vouchers(db::Database& db, Campaign campaign) : db_(db), campaign_(std::move(campaign)) {}

  // Redeems `tier` for the member. `request` names what asked (an MO's id, a
  // USSD session): the same request a second time returns the first voucher.
  Redemption redeem(std::string_view msisdn, std::string_view tier, const std::string& request,
                    const Actor& actor, Time now);

  // The member's ask for a tier: with confirmation configured it holds an
  // offer (status offered; the same request again returns the same offer),
  // without it it redeems at once.
  Redemption request(std::string_view msisdn, std::string_view tier, const std::string& request,
                     const Actor& actor, Time now);
  // Confirms the member's latest held offer. With none held (confirmed
  // already, replaced, or never asked for) it is no_offer: a second "Y"
  // issues nothing and says so. (A "Y" the SMSC delivers again is known
  // by the MO's redelivery rule before it gets here.)
  Redemption confirm(std::string_view msisdn, const Actor& actor, Time now);

  // A merchant's number presents a code (as typed).
  Verification verify(std::string_view merchant_msisdn, std::string_view typed_code,
                      const Actor& actor, Time now);
  // A merchant's terminal presents a code: the rules of verify(), for the
  // merchant of that id (unknown: not_a_merchant), with failures recorded
  // as coming from `source` ("api:NAME") and counted against the merchant
  // together with its numbers' failures.
  Verification verify_at(std::string_view merchant_id, std::string_view source,
                         std::string_view typed_code, const Actor& actor, Time now);

  // Sets the stock of a tier in a city (an operator action, recorded).
  bool set_stock(std::string_view tier, std::string_view city, std::int64_t quantity,
                 const Actor& actor);
  // The stock of a tier in a city; nullopt for none set, or (last_error()
  // then says why) when the database failed.
  std::optional<std::int64_t> stock(std::string_view tier, std::string_view city);

  bool add_merchant(const Merchant& merchant, const Actor& actor);
  // The enabled merchants of a city (of one kind, "ktv" or "cinema", if
  // given), each with what every tier buys there: the member's "where can I
  // use it". nullopt when the database failed (last_error() says why):
  // never "no merchants" for a list that could not be read.
  std::optional<std::vector<Merchant>> merchants_in(std::string_view city,
                                                    std::string_view kind = {});
  // Every merchant, enabled or not, with its numbers and offers, by id
  // (nullopt: the database failed).
  std::optional<std::vector<Merchant>> all_merchants();

  // Operators' control of merchants, each with a reason in the event
  // history and in force from the daemon's next MO (it reads the database
  // for every one). A disabled merchant's numbers verify nothing (they are
  // answered verify_merchant_disabled) and it is listed to no member; a
  // number taken away is no merchant's any more. Importing the merchant
  // again does not enable it, but gives it the numbers of the file.
  AdminResult set_merchant_disabled(std::string_view id, bool disabled, std::string_view reason,
                                    const Actor& actor);
  NumberRemoval remove_merchant_number(std::string_view id, std::string_view msisdn,
                                       std::string_view reason, const Actor& actor);

  // Operator corrections, each with a reason in the event history. Voiding
  // an issued voucher gives its points back unless refund is false;
  // reinstating makes a wrongly used voucher usable again.
  AdminResult void_voucher(std::string_view code, std::string_view reason, bool refund,
                           const Actor& actor);
  AdminResult reinstate(std::string_view code, std::string_view reason, const Actor& actor);

  // Merchants locked out now, and lifting one lock early (the merchant
  // named by its id or one of its numbers); the failures before it no
  // longer count.
  // (lockouts: nullopt when the database failed.)
  std::optional<std::vector<Lockout>> lockouts(Time now);
  AdminResult unlock(std::string_view merchant, std::string_view reason, const Actor& actor,
                     Time now);

  // The vouchers the merchant verified in [from, to), by time (by SMS and
  // terminal alike); nullopt when the database failed (last_error()).
  std::optional<std::vector<MerchantVerification>> verifications_of(std::string_view merchant_id,
                                                                    Time from, Time to);

  const Campaign& campaign() const { return campaign_; }
  // A reload's window, tiers and guards, for the requests from now on.
  void set_campaign(Campaign campaign) { campaign_ = std::move(campaign); }
  const std::string& last_error() const { return last_error_; }

 private:
  // The redemption proper, inside the caller's transaction.
  Redemption issue(std::int64_t member_id, const std::string& city, const Tier& tier,
                   std::int64_t balance, const std::string& request, const Actor& actor, Time now);
  // The verification proper, for the merchant found (its id, city and
  // whether it is disabled), inside the caller's transaction; `source` is
  // the number or terminal that presented the code.
  Verification verify_for(const std::string& merchant_id, const std::string& city, bool disabled,
                          std::string_view source, std::string_view typed_code,
                          const Actor& actor, Time now);
  // Commits a verification's transaction unless it failed (a refusal too:
  // the failure it counted must stick); failed when the commit is refused.
  Verification settle(db::Transaction& tx, Verification v);
  Verification failed_verification(Verification v, const db::Status& s);
  // Counts a failed verification from `source` (a merchant's number, or a
  // terminal's "api:NAME": verify_failures.msisdn) against its merchant and
  // locks the merchant at a limit (inside the caller's transaction);
  // *locked_until: the lock's end, if this failure locked it.
  db::Status count_failure(std::string_view source, std::string_view merchant_id,
                           std::string_view why, const Actor& actor, Time now,
                           std::string* locked_until);

  AdminResult fail_admin(const db::Status& s) {
    last_error_ = s.message;
    return AdminResult::failed;
  }

  db::Database& db_;
  Campaign campaign_;
  std::string last_error_;
};

}  // namespace giftgate
