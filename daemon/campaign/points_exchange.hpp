// The club's points system, as the plan has it: points earned elsewhere
// come in as accruals, and every deduction (a redemption) and its refund
// (a voided voucher) go back out as a feed it reads after a cursor, so each
// one can be confirmed on its side. Knows nothing of HTTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/campaign/ledger.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// One accrual as the points system posts it.
struct PostedAccrual {
  std::string id;      // the points system's own, unique for good: 1-64 of [A-Za-z0-9._:-]
  std::string msisdn;  // normal form
  std::int64_t points = 0;  // > 0
  std::string reason;  // shown in the member's ledger
};

struct AccrualOutcome {
  enum class Status {
    credited,
    duplicate,       // this id was credited before, with the same member and points: nothing added
    conflict,        // this id was credited before with another member or amount: nothing added
    unknown_member,
    out_of_bounds,   // past campaign.max_points_change or max_balance: nothing added
    invalid,         // a bad id, points not > 0, an empty reason
  };
  std::string id;
  Status status = Status::invalid;
  std::int64_t balance = 0;  // the member's, after (credited or duplicate)
  std::string error;         // for out_of_bounds and invalid: why
};

// One entry of the redemption feed.
struct FeedEntry {
  std::int64_t cursor = 0;  // the ledger entry's id: read the next page after it
  std::string kind;         // "redemption" (points deducted) or "refund" (a void gave them back)
  std::string msisdn;
  std::int64_t points = 0;  // negative for a redemption, positive for a refund
  std::string tier;
  std::string channel;      // where it happened: sms, ussd, api, giftctl
  std::string at;           // ISO, UTC
};

class PointsExchange {
 public:
  PointsExchange(db::Database& db, const PointLimits& limits) : db_(db), limits_(limits) {}

  // A batch of accruals in one transaction (a savepoint inside the
  // caller's): each credited once by its id (ledger reference
  // "accrual:ID"), each with its own outcome. nullopt, with *status, when
  // the database failed: then nothing of the batch is credited.
  std::optional<std::vector<AccrualOutcome>> post(const std::vector<PostedAccrual>& batch,
                                                   const Actor& actor, db::Status* status);

  // Up to `limit` feed entries after `after` (0: from the start), oldest
  // first; nullopt with *status when the database failed.
  std::optional<std::vector<FeedEntry>> feed(std::int64_t after, std::size_t limit,
                                             db::Status* status);

 private:
  db::Database& db_;
  const PointLimits& limits_;
};

}  // namespace giftgate
