// Members and their points. A member's balance is the sum of the ledger,
// never a number overwritten; every entry is also an event naming its cause.
// Every change is bounded (PointLimits) and every balance stays between 0 and
// a maximum, so no sum of the ledger can overflow; the sums that are taken
// anyway are checked, and one that fails says so instead of showing 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// The bounds on points (campaign.max_points_change, campaign.max_balance in
// the configuration, whose shipped values these defaults repeat; a test
// compares them). A change of more than max_change points either way, or one
// that would leave a balance below 0 or above max_balance, is refused.
struct PointLimits {
  std::int64_t max_change = 1'000'000;
  std::int64_t max_balance = 10'000'000;
};

// Why `delta` points may not be applied to `who`'s balance of `balance`
// under `limits` (a sentence for an operator), or nullopt when they may.
// Checked arithmetic: any operands, never undefined behaviour.
std::optional<std::string> points_out_of_bounds(std::string_view who, std::int64_t balance,
                                                std::int64_t delta, const PointLimits& limits);

// The account that really ran a tool: what the system says, beside the
// operator's name the tool was told (--operator, $USER), which anyone can set.
struct RealUser {
  std::int64_t uid = 0;
  std::string name;  // from the password database; empty when it has none
};

// Who or what caused a change: the channel (sms, ussd, giftctl, import) and
// the actor within it (an operator's name, a file, a message id), with the
// real account for changes made by giftctl (none for the daemon's).
struct Actor {
  std::string channel;
  std::string who;
  std::optional<RealUser> real = std::nullopt;
};

// Appends events with one prepared statement, for many rows in one
// transaction (imports); record_event below is the one-off form.
class EventWriter {
 public:
  EventWriter(db::Database& db, const Actor& actor);
  db::Status add(std::string_view kind, std::optional<std::int64_t> member_id,
                 std::string_view detail,
                 const std::optional<std::string>& voucher_code = std::nullopt);

 private:
  db::Statement insert_;
  const Actor& actor_;
};

// Appends ledger entries with one prepared statement. A reference already
// used fails with a constraint status and adds nothing.
class EntryWriter {
 public:
  EntryWriter(db::Database& db, const Actor& actor);
  db::Status add(std::int64_t member_id, std::int64_t delta, std::string_view reason,
                 const std::optional<std::string>& reference);

 private:
  db::Statement insert_;
  const Actor& actor_;
};

// Appends one entry to the event history (part of the caller's transaction).
db::Status record_event(db::Database& db, std::string_view kind,
                        std::optional<std::int64_t> member_id, const Actor& actor,
                        std::string_view detail,
                        const std::optional<std::string>& voucher_code = std::nullopt);

struct Member {
  std::int64_t id = 0;
  std::string msisdn;  // E.164 digits (see daemon/campaign/phone.hpp)
  std::string city;
  std::string language = "zh";
  bool care_opt_out = false;
};

struct LedgerEntry {
  std::int64_t delta = 0;
  std::string reason;
  std::string channel;
  std::string actor;
  std::string created_at;
};

class Ledger {
 public:
  explicit Ledger(db::Database& db) : db_(db) {}

  enum class Result {
    ok,
    duplicate,       // the same reference was already applied: nothing added
    unknown_member,
    invalid,         // a bad value (zero delta, unknown language)
    exists,          // add_member: the number is already a member
    out_of_bounds,   // past a PointLimits bound: nothing added, last_error() says which
    failed,          // the database refused (busy past its timeout, disk full)
  };

  // Adds a member with an opening balance (0 adds no entry), within
  // `limits`. `msisdn` must already be in normal form.
  Result add_member(const Member& member, std::int64_t opening_balance, const Actor& actor,
                    const PointLimits& limits, std::int64_t* id = nullptr);
  // The member with that number; nullopt with *status ok when there is
  // none, nullopt with *status failed when the database could not say.
  std::optional<Member> find_member(std::string_view msisdn, db::Status* status);

  // Adds `delta` points (negative to take some) within `limits`. With a
  // reference the entry is idempotent: the same reference a second time
  // returns duplicate. Must run inside a transaction when part of a larger
  // change.
  Result add_points(std::int64_t member_id, std::int64_t delta, std::string_view reason,
                    const std::optional<std::string>& reference, const Actor& actor,
                    const PointLimits& limits);

  // The member's points: the sum of the ledger, or nullopt when it cannot be
  // summed (the database refused, or entries written before the bounds
  // overflow it); last_error() says why. Never 0 for "unknown".
  std::optional<std::int64_t> balance(std::int64_t member_id);
  // The member's entries, oldest first; nullopt when the database failed
  // (last_error() says why), never a list cut short.
  std::optional<std::vector<LedgerEntry>> history(std::int64_t member_id);

  // The last database failure, for the caller's error message.
  const std::string& last_error() const { return last_error_; }

 private:
  Result fail(const db::Status& s);

  db::Database& db_;
  std::string last_error_;
};

}  // namespace giftgate
