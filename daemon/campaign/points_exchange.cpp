#include "daemon/campaign/points_exchange.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/table.hpp"

namespace giftgate {
namespace {

constexpr std::size_t kMaxIdLength = 64;

bool id_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

// Why the accrual cannot be taken as posted, or nullopt when it can. The id
// becomes part of a ledger reference, the reason a line of the member's
// ledger: neither may carry what would break a line or a log.
std::optional<std::string> invalid_accrual(const PostedAccrual& a) {
  if (a.id.empty() || a.id.size() > kMaxIdLength)
    return fmt::format("the id must have 1 to {} characters", kMaxIdLength);
  for (char c : a.id)
    if (!id_character(c)) return "the id may hold only A-Z, a-z, 0-9, '.', '_', ':' and '-'";
  if (a.points <= 0) return "points must be more than 0";
  if (a.reason.empty()) return "the reason is empty";
  if (has_unprintable(a.reason))
    return "the reason is not UTF-8 or holds control or direction characters";
  // The number as it is stored; the caller puts what it was sent into this
  // form, so anything else here is a caller's mistake, not a stranger.
  if (normalize_msisdn(a.msisdn) != a.msisdn) return "the number is not in normal form";
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<AccrualOutcome>> PointsExchange::post(
    const std::vector<PostedAccrual>& batch, const Actor& actor, db::Status* status) {
  auto failed = [&](db::Status s) -> std::optional<std::vector<AccrualOutcome>> {
    *status = std::move(s);
    return std::nullopt;  // the transaction rolls back the accruals credited so far
  };
  db::Transaction tx(db_);
  if (!tx.begun()) return failed(tx.begun());
  Ledger ledger(db_);
  // An id credited before, by the number and points it was credited with.
  auto earlier = db_.prepare(
      "SELECT m.msisdn, l.delta, l.member_id FROM ledger l JOIN members m ON m.id = l.member_id "
      "WHERE l.reference = ?");
  std::vector<AccrualOutcome> out;
  out.reserve(batch.size());
  for (const auto& a : batch) {
    AccrualOutcome o;
    o.id = a.id;
    if (auto why = invalid_accrual(a)) {
      o.status = AccrualOutcome::Status::invalid;
      o.error = std::move(*why);
      out.push_back(std::move(o));
      continue;
    }
    const std::string reference = "accrual:" + a.id;
    // Looked up before the member: an id posted again for another number
    // is a conflict whether or not that number is a member.
    earlier.reset();
    earlier.bind(1, reference);
    switch (earlier.step()) {
      case db::StepResult::row: {
        const bool same = earlier.column_text(0) == a.msisdn && earlier.column_int(1) == a.points;
        const std::int64_t member_id = earlier.column_int(2);
        earlier.reset();
        o.status = same ? AccrualOutcome::Status::duplicate : AccrualOutcome::Status::conflict;
        if (same) {
          const auto balance = ledger.balance(member_id);
          if (!balance) return failed({1, ledger.last_error()});
          o.balance = *balance;
        }
        out.push_back(std::move(o));
        continue;
      }
      case db::StepResult::done: break;
      case db::StepResult::error: return failed(earlier.status());
    }
    db::Status found;
    const auto member = ledger.find_member(a.msisdn, &found);
    if (!found.ok()) return failed(found);  // never "unknown member" for a busy disk
    if (!member) {
      o.status = AccrualOutcome::Status::unknown_member;
      out.push_back(std::move(o));
      continue;
    }
    switch (ledger.add_points(member->id, a.points, a.reason, reference, actor, limits_)) {
      case Ledger::Result::ok: {
        const auto balance = ledger.balance(member->id);
        if (!balance) return failed({1, ledger.last_error()});
        o.status = AccrualOutcome::Status::credited;
        o.balance = *balance;
        break;
      }
      case Ledger::Result::out_of_bounds:
        o.status = AccrualOutcome::Status::out_of_bounds;
        o.error = ledger.last_error();
        break;
      // The reference was looked up above, in this transaction, which holds
      // the write lock: nothing else can have used it since.
      case Ledger::Result::duplicate:
        return failed({1, fmt::format("ledger reference {} appeared during the batch", reference)});
      case Ledger::Result::unknown_member:  // found above, in this transaction
      case Ledger::Result::invalid:         // checked above
      case Ledger::Result::exists:
      case Ledger::Result::failed: return failed({1, ledger.last_error()});
    }
    out.push_back(std::move(o));
  }
  if (auto c = tx.commit(); !c.ok()) return failed(std::move(c));
  *status = {};
  return out;
}

std::optional<std::vector<FeedEntry>> PointsExchange::feed(std::int64_t after, std::size_t limit,
                                                           db::Status* status) {
  // The reference test is written as ledger_feed's WHERE is, so that SQLite
  // reads that partial index (deductions and refunds only) and not every
  // accrual. The voucher gives the tier; its code stays here: whoever reads
  // the feed could use it at a merchant.
  auto q = db_.prepare(
      "SELECT l.id, l.reference LIKE 'void:%', m.msisdn, l.delta, COALESCE(v.tier, ''), "
      "l.channel, l.created_at FROM ledger l JOIN members m ON m.id = l.member_id "
      "LEFT JOIN vouchers v ON v.code = substr(l.reference, instr(l.reference, ':') + 1) "
      "WHERE (reference LIKE 'redeem:%' OR reference LIKE 'void:%') AND l.id > ? "
      "ORDER BY l.id LIMIT ?");
  constexpr auto kMost = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  q.bind(1, after).bind(2, static_cast<std::int64_t>(std::min(limit, kMost)));
  std::vector<FeedEntry> out;
  *status = q.each_row([&] {
    out.push_back({q.column_int(0), q.column_int(1) != 0 ? "refund" : "redemption",
                   q.column_text(2), q.column_int(3), q.column_text(4), q.column_text(5),
                   q.column_text(6)});
  });
  if (!status->ok()) return std::nullopt;
  return out;
}

}  // namespace giftgate
