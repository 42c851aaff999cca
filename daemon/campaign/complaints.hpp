// Complaints, as the plan requires them recorded and answered fast: each is
// opened on a member (and, when it is about one, a voucher) with a category
// and the member's words, gathers notes, and is closed with an outcome. The
// console, giftctl complaints and giftctl report read the same rows.
//
// The contract:
// - Opening, a note and closing are each one change, with an event in the
//   member's history (complaint_opened, complaint_note, complaint_closed)
//   naming the agent. A closed complaint takes no more notes and is not
//   closed twice (wrong_state).
// - Texts are 1 to 2,000 characters of valid UTF-8 (invalid otherwise);
//   they are stored as typed, and escaped by whoever shows them.
// - Lists are read whole or are nullopt with *error: never cut short.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/table.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// The categories a complaint is filed under, in the order forms list them:
// not_received, not_accepted, wrong_points, expired, merchant, other.
const std::vector<std::string_view>& complaint_categories();
// The outcomes it is closed with: resolved, compensated, rejected, duplicate.
const std::vector<std::string_view>& complaint_outcomes();

struct Complaint {
  std::int64_t id = 0;
  std::int64_t member_id = 0;
  std::string msisdn;
  std::optional<std::string> voucher_code;
  std::string category;
  std::string text;
  std::string state;  // "open" or "closed"
  std::string opened_by;
  std::string opened_at;
  std::optional<std::string> closed_by;
  std::optional<std::string> closed_at;
  std::optional<std::string> outcome;
};

struct ComplaintNote {
  std::string at;
  std::string by;
  std::string text;
};

class Complaints {
 public:
  explicit Complaints(db::Database& db) : db_(db) {}

  enum class Result { ok, unknown_member, unknown_voucher, unknown, invalid, wrong_state, failed };

  // A new complaint on the member with number `msisdn` (normal form), and
  // on `voucher_code` (canonical) when given, which must be that member's.
  // *id gets the new complaint's id.
  Result open(std::string_view msisdn, const std::optional<std::string>& voucher_code,
              std::string_view category, std::string_view text, const Actor& actor, Time now,
              std::int64_t* id);
  Result add_note(std::int64_t id, std::string_view text, const Actor& actor, Time now);
  Result close(std::int64_t id, std::string_view outcome, std::string_view text, const Actor& actor,
               Time now);

  // One complaint and its notes (oldest first); nullopt with *status ok
  // when there is none.
  std::optional<Complaint> get(std::int64_t id, db::Status* status);
  std::optional<std::vector<ComplaintNote>> notes(std::int64_t id, std::string* error);

  // Complaints in `state` ("open", "closed" or "all"), oldest first, with
  // their age in hours at `now`: id, opened_at, age_hours, msisdn (whole:
  // operators' screens show it), voucher, category, state, opened_by,
  // outcome, notes (how many).
  std::optional<Table> list(std::string_view state, Time now, std::string* error);
  // A member's complaints, newest first (same columns).
  std::optional<Table> of_member(std::int64_t member_id, Time now, std::string* error);
  // A voucher's complaints, newest first (same columns).
  std::optional<Table> of_voucher(std::string_view code, Time now, std::string* error);
  // For giftctl report: per category, how many open, closed, and the
  // median hours to close (columns category, open, closed, median_hours_to_close).
  std::optional<Table> counts(std::string* error);

 private:
  db::Database& db_;
};

}  // namespace giftgate
