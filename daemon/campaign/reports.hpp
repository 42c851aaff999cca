// What operators read from the campaign database: the effect analysis by
// tier, city, merchant and day, the redemptions file for the points system,
// and the histories that answer a complaint. Each listing is read whole, or
// is nullopt with *error saying what the database said: an operator never
// reads a listing cut short by an error as the whole of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/storage/sqlite.hpp"
#include "daemon/campaign/table.hpp"

namespace giftgate {

// Runs a query and returns its rows under `columns`; a column whose name
// starts with '#' is numeric (the '#' dropped). nullopt, with *error, when
// the database failed: never the rows read until then.
std::optional<Table> query_table(db::Database& db, std::string* error, std::string_view sql,
                                 std::vector<std::string> columns,
                                 const std::vector<std::string>& params = {});

// issued, used, voided, expired unused, points spent and face value, grouped by one of
// "tier", "city", "merchant" (used vouchers only: issue has no merchant) or
// "day" (issued by day of issue, used by day of use, days cut at midnight
// on the clocks of `time_zone`, summer time included); expired as at `now`
// (none given: the system clock's now). nullopt for an unknown dimension
// (*error empty) or when the database failed (*error says why).
std::optional<Table> campaign_report(db::Database& db, std::string_view by,
                                     const std::string& time_zone, std::string* error,
                                     std::optional<std::chrono::sys_seconds> now = std::nullopt);

// Every voucher issued at or after `since` (UTC, "2026-10-01T00:00:00Z"),
// oldest first, with its member, price and state now.
std::optional<Table> redemptions_since(db::Database& db, const std::string& since,
                                       std::string* error);

// A member's points ledger, vouchers and event history, oldest first.
std::optional<Table> member_ledger(db::Database& db, std::int64_t member_id, std::string* error);
std::optional<Table> member_vouchers(db::Database& db, std::int64_t member_id, std::string* error);
std::optional<Table> member_offers(db::Database& db, std::int64_t member_id, std::string* error);
std::optional<Table> member_events(db::Database& db, std::int64_t member_id, std::string* error);

// The texts received from a number (MOs), as the daemon read them.
std::optional<Table> member_texts(db::Database& db, const std::string& msisdn, std::string* error);
// The messages sent to a number, with their states and attempts.
std::optional<Table> member_messages(db::Database& db, const std::string& msisdn,
                                     std::string* error);
// Each part of each attempt of those messages: the SMSC's answer, its
// receipt, and what the SMSC said of a failure.
std::optional<Table> member_parts(db::Database& db, const std::string& msisdn, std::string* error);
// The member's USSD sessions, oldest first: when, where it stood, how it ended.
std::optional<Table> member_ussd(db::Database& db, const std::string& msisdn, std::string* error);
// Every push that selected the member, oldest first: sent (with the message's
// state), held out for comparison, or skipped and why.
std::optional<Table> member_pushes(db::Database& db, std::int64_t member_id, std::string* error);
// A merchant's name, city and kind (one row; none for an unknown id).
std::optional<Table> merchant_facts(db::Database& db, const std::string& id, std::string* error);
// Outbound messages by template: how many, in which state, how many resent.
std::optional<Table> message_report(db::Database& db, std::string* error);

// One voucher's facts (one row) and its timeline of events.
std::optional<Table> voucher_facts(db::Database& db, const std::string& code, std::string* error);
std::optional<Table> voucher_events(db::Database& db, const std::string& code, std::string* error);

}  // namespace giftgate
