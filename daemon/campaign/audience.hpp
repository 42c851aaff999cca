// Audience expressions: which members a push goes to, as an operator types it
// ("city in (beijing, shanghai) and affords B and not has_voucher"), turned
// into an SQL condition over `members m`.
//
// The contract the push engine and giftctl rely on:
// - parse_audience never throws on bad input and never splices a value into
//   the SQL: every city, number and time is a '?' parameter, so nothing an
//   operator types can change what the statement does.
// - `where` reads only the member's own rows, each through its index
//   (ledger_member, vouchers_member, inbox_msisdn), so it can run as
//   "SELECT m.id FROM members m WHERE m.id > ? AND m.id <= ? AND (<where>)"
//   batch by batch, and as a COUNT for a dry run, without scanning other
//   tables.
// - Times relative to "now" (unused vouchers, expiring within N days) are
//   fixed at ctx.now when parsed: a push that selects later parses again with
//   the time of that selection. Tier prices are those of ctx.campaign.
// - `text` is the canonical spelling: parsing it again gives the same text,
//   the same SQL and the same parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// What an expression is read against: tiers' prices, the zone dates are
// written in, and the instant "now" means.
struct AudienceContext {
  const Campaign& campaign;
  std::string zone;  // the campaign's time_zone
  Time now;
};

// One bound value of an audience's SQL: text or a whole number.
using AudienceParam = std::variant<std::string, std::int64_t>;

// A parsed audience expression, ready to bind into a statement.
struct Audience {
  std::string text;   // the canonical spelling, stored with the push and shown back
  std::string where;  // an SQL boolean expression over `members m`, '?' placeholders only
  std::vector<AudienceParam> params;  // in the order of the '?'s in `where`

  // Binds params to st's parameters first_index, first_index + 1, ...
  void bind(db::Statement& st, int first_index) const;
};

// The longest expression accepted, in bytes, and the deepest nesting of
// parentheses and 'not'.
inline constexpr std::size_t kAudienceMaxLength = 2000;
inline constexpr int kAudienceMaxDepth = 32;

// `text` as an audience, or nullopt with *error (if given) saying where
// ("at 14: ...", 1-based characters) and what was expected there.
std::optional<Audience> parse_audience(std::string_view text, const AudienceContext& ctx,
                                       std::string* error);

// A few lines on the expressions, for giftctl's help and the manual page.
std::string describe_audience_grammar();

}  // namespace giftgate
