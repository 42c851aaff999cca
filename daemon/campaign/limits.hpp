// How much one number has asked of the service lately, against the limits
// section (config.hpp Limits). MOs are counted from the inbox and replies
// from the outbox, so the counts need no state of their own, hold across
// restarts and cannot disagree with the records. Every count stops at its
// limit, so a number that floods costs no more to check than one that
// does not. Knows nothing of PDUs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/campaign/settings.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// Which limit an MO ran into.
enum class Overrun {
  none,    // within every limit: handle it
  minute,  // a per-minute limit
  day,     // a per-day limit
  quiet,   // a number that is no member's or merchant's, answered once today already
};
std::string_view overrun_name(Overrun overrun);

struct LimitCheck {
  Overrun overrun = Overrun::none;
  // Tell the sender to slow down: not yet told within the overrun's period.
  bool tell = false;
  db::Status status;  // a database error: handle nothing, answer nothing
};

class SenderLimits {
 public:
  SenderLimits(db::Database& db, const Limits& limits) : db_(db), limits_(limits) {}

  // An SMS from `msisdn`, checked before it is recorded. `slow_down` is the
  // message that tells the sender (its template name in the outbox).
  LimitCheck sms(std::string_view msisdn, bool merchant, bool member, Time now,
                 std::string_view slow_down);
  // A USSD step (a dial or an answer) from `msisdn`, before it is recorded.
  LimitCheck ussd(std::string_view msisdn, Time now, std::string_view slow_down);

 private:
  // The sender's MOs on a channel and the SMS sent to it, in the last day
  // and the last minute; as caps, the most worth counting of each (0: none).
  struct Counts {
    std::int64_t mo_day = 0, mo_minute = 0, replies_day = 0, replies_minute = 0;
  };
  std::optional<Counts> counts(std::string_view msisdn, std::string_view channel, Time now,
                               const Counts& caps, db::Status* error);
  // Whether `message` went to the sender since `since`.
  std::optional<bool> told(std::string_view msisdn, std::string_view message, Time since,
                           db::Status* error);
  // The overrun, or none, against per-minute and per-day limits (0: off).
  LimitCheck against(std::string_view msisdn, std::string_view channel, int per_minute,
                     int per_day, int replies_per_minute, int replies_per_day, Time now,
                     std::string_view slow_down);

  db::Database& db_;
  const Limits& limits_;
};

}  // namespace giftgate
