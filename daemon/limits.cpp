#include "daemon/limits.hpp"

#include "daemon/vouchers.hpp"

namespace giftgate {
namespace {

constexpr std::chrono::seconds kMinute{60};
constexpr std::chrono::seconds kDay{86400};

}  // namespace

std::string_view overrun_name(Overrun overrun) {
  switch (overrun) {
    case Overrun::none: return "none";
    case Overrun::minute: return "minute";
    case Overrun::day: return "day";
    case Overrun::quiet: return "quiet";
  }
  return "none";
}

std::optional<std::int64_t> SenderLimits::mos(std::string_view msisdn, std::string_view channel,
                                              Time since, int cap, db::Status* error) {
  auto q = db_.prepare(
      "SELECT COUNT(*) FROM (SELECT 1 FROM inbox WHERE msisdn = ? AND received_at > ? AND "
      "channel = ? LIMIT ?)");
  q.bind(1, msisdn).bind(2, iso_time(since)).bind(3, channel).bind(4, std::int64_t{cap});
  if (!q.step()) {
    *error = q.status().ok() ? db::Status{1, "COUNT gave no row"} : q.status();
    return std::nullopt;
  }
  return q.column_int(0);
}

std::optional<std::int64_t> SenderLimits::replies(std::string_view msisdn, Time since, int cap,
                                                  db::Status* error) {
  auto q = db_.prepare(
      "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE msisdn = ? AND created_at > ? AND "
      "channel = 'sms' LIMIT ?)");
  q.bind(1, msisdn).bind(2, iso_time(since)).bind(3, std::int64_t{cap});
  if (!q.step()) {
    *error = q.status().ok() ? db::Status{1, "COUNT gave no row"} : q.status();
    return std::nullopt;
  }
  return q.column_int(0);
}

std::optional<bool> SenderLimits::told(std::string_view msisdn, std::string_view message,
                                       Time since, db::Status* error) {
  auto q = db_.prepare(
      "SELECT 1 FROM outbox WHERE msisdn = ? AND created_at > ? AND message = ? LIMIT 1");
  q.bind(1, msisdn).bind(2, iso_time(since)).bind(3, message);
  if (q.step()) return true;
  if (!q.status().ok()) {
    *error = q.status();
    return std::nullopt;
  }
  return false;
}

LimitCheck SenderLimits::against(std::string_view msisdn, std::string_view channel,
                                 int per_minute, int per_day, int replies_per_minute,
                                 int replies_per_day, Time now, std::string_view slow_down) {
  LimitCheck out;
  // The day first: past it, one word a day is enough.
  struct Period {
    Overrun overrun;
    std::chrono::seconds length;
    int mos, replies;
  };
  for (const Period& p : {Period{Overrun::day, kDay, per_day, replies_per_day},
                          Period{Overrun::minute, kMinute, per_minute, replies_per_minute}}) {
    bool over = false;
    if (p.mos > 0) {
      const auto n = mos(msisdn, channel, now - p.length, p.mos, &out.status);
      if (!n) return out;
      over = *n >= p.mos;
    }
    if (!over && p.replies > 0) {
      const auto n = replies(msisdn, now - p.length, p.replies, &out.status);
      if (!n) return out;
      over = *n >= p.replies;
    }
    if (!over) continue;
    const auto was_told = told(msisdn, slow_down, now - p.length, &out.status);
    if (!was_told) return out;
    out.overrun = p.overrun;
    out.tell = !*was_told;
    return out;
  }
  return out;
}

LimitCheck SenderLimits::sms(std::string_view msisdn, bool merchant, bool member, Time now,
                             std::string_view slow_down) {
  if (!merchant && !member && limits_.non_member_replies_per_day > 0) {
    // Someone the campaign does not know: how to join, once a day, and
    // nothing else, however often or whatever they write.
    LimitCheck out;
    const auto n = replies(msisdn, now - kDay, limits_.non_member_replies_per_day, &out.status);
    if (!n) return out;
    if (*n >= limits_.non_member_replies_per_day) return {Overrun::quiet, false, {}};
  }
  // A merchant's number gets one answer per code it sends: its MOs bound
  // its replies.
  if (merchant)
    return against(msisdn, "sms", limits_.merchant_mo_per_minute, limits_.merchant_mo_per_day, 0,
                   0, now, slow_down);
  return against(msisdn, "sms", limits_.mo_per_minute, limits_.mo_per_day,
                 limits_.replies_per_minute, limits_.replies_per_day, now, slow_down);
}

LimitCheck SenderLimits::ussd(std::string_view msisdn, Time now, std::string_view slow_down) {
  return against(msisdn, "ussd", limits_.ussd_per_minute, limits_.ussd_per_day, 0, 0, now,
                 slow_down);
}

}  // namespace giftgate
