#include "daemon/campaign/limits.hpp"

#include "daemon/campaign/vouchers.hpp"

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

std::optional<SenderLimits::Counts> SenderLimits::counts(std::string_view msisdn,
                                                         std::string_view channel, Time now,
                                                         const Counts& caps, db::Status* error) {
  // One statement, four index ranges, each stopped at its cap (a cap of 0
  // counts nothing): the cost of a check does not grow with a flood.
  auto q = db_.prepare(
      "SELECT "
      "(SELECT COUNT(*) FROM (SELECT 1 FROM inbox WHERE msisdn = ?1 AND received_at > ?2 "
      "AND channel = ?4 LIMIT ?5)), "
      "(SELECT COUNT(*) FROM (SELECT 1 FROM inbox WHERE msisdn = ?1 AND received_at > ?3 "
      "AND channel = ?4 LIMIT ?6)), "
      "(SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE msisdn = ?1 AND created_at > ?2 "
      "AND channel = 'sms' LIMIT ?7)), "
      "(SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE msisdn = ?1 AND created_at > ?3 "
      "AND channel = 'sms' LIMIT ?8))");
  q.bind(1, msisdn).bind(2, iso_time(now - kDay)).bind(3, iso_time(now - kMinute)).bind(4, channel)
      .bind(5, caps.mo_day).bind(6, caps.mo_minute).bind(7, caps.replies_day)
      .bind(8, caps.replies_minute);
  switch (q.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: *error = db::Status{1, "COUNT gave no row"}; return std::nullopt;
    case db::StepResult::error: *error = q.status(); return std::nullopt;
  }
  return Counts{q.column_int(0), q.column_int(1), q.column_int(2), q.column_int(3)};
}

std::optional<bool> SenderLimits::told(std::string_view msisdn, std::string_view message,
                                       Time since, db::Status* error) {
  auto q = db_.prepare(
      "SELECT 1 FROM outbox WHERE msisdn = ? AND created_at > ? AND message = ? LIMIT 1");
  q.bind(1, msisdn).bind(2, iso_time(since)).bind(3, message);
  switch (q.step()) {
    case db::StepResult::row: return true;
    case db::StepResult::done: return false;
    case db::StepResult::error: *error = q.status(); return std::nullopt;
  }
  return std::nullopt;
}

LimitCheck SenderLimits::against(std::string_view msisdn, std::string_view channel,
                                 int per_minute, int per_day, int replies_per_minute,
                                 int replies_per_day, Time now, std::string_view slow_down) {
  LimitCheck out;
  const auto n = counts(msisdn, channel, now, {per_day, per_minute, replies_per_day,
                                               replies_per_minute},
                        &out.status);
  if (!n) return out;
  auto over = [](std::int64_t count, int limit) { return limit > 0 && count >= limit; };
  // The day first: past it, one word a day is enough.
  if (over(n->mo_day, per_day) || over(n->replies_day, replies_per_day))
    out.overrun = Overrun::day;
  else if (over(n->mo_minute, per_minute) || over(n->replies_minute, replies_per_minute))
    out.overrun = Overrun::minute;
  else
    return out;
  const auto was_told =
      told(msisdn, slow_down, now - (out.overrun == Overrun::day ? kDay : kMinute), &out.status);
  if (!was_told) return out;
  out.tell = !*was_told;
  return out;
}

LimitCheck SenderLimits::sms(std::string_view msisdn, bool merchant, bool member, Time now,
                             std::string_view slow_down) {
  if (!merchant && !member && limits_.non_member_replies_per_day > 0) {
    // Someone the campaign does not know: how to join, once a day, and
    // nothing else, however often or whatever they write.
    LimitCheck out;
    const int cap = limits_.non_member_replies_per_day;
    const auto n = counts(msisdn, "sms", now, {0, 0, cap, 0}, &out.status);
    if (!n) return out;
    if (n->replies_day >= cap) return {Overrun::quiet, false, {}};
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
