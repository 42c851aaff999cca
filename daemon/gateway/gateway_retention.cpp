// Retention from the gateway's thread: one prune batch per interval, and
// the day's size sample, only while nothing else is going on (see
// Gateway::quiet), so traffic never waits behind either.
#include "daemon/campaign/database_size.hpp"
#include "daemon/campaign/web_login.hpp"
#include "daemon/gateway/gateway.hpp"

namespace giftgate {
namespace {

// The day's size sample (size_history) is taken this often; the row of
// the day is overwritten, so the last sample of a day stands for it.
constexpr auto kSizeSampleEvery = std::chrono::hours(1);
// What pruning did, at info, at most this often (each batch is at debug).
constexpr auto kPruneSummaryEvery = std::chrono::minutes(10);
// The website's spent sign-in codes and tokens are removed this often.
constexpr auto kWebPruneEvery = std::chrono::minutes(10);

}  // namespace

bool Gateway::quiet() const {
  // No open batch (a prune inside it would make every answer wait for it),
  // no MO waiting, and no more replies queued than one window sends.
  return !stopping_ && batch_.state() == GroupCommit<smpp::Responder>::State::idle &&
         waiting_.empty() && backlog_ < backlog_limit() / 4;
}

void Gateway::prune_when_quiet() {
  if (stopping_) return;
  const auto steady = std::chrono::steady_clock::now();
  if (quiet() && (last_size_sample_ == std::chrono::steady_clock::time_point{} ||
                  steady - last_size_sample_ >= kSizeSampleEvery)) {
    last_size_sample_ = steady;
    if (auto s = record_size(db_, now()); !s.ok())
      log_.warning("size_not_recorded", {{"reason", s.message}});
  }
  if (quiet()) {
    const auto r = retention_.prune_batch(now(), config_.retention.batch_rows);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - steady);
    if (!r.status.ok()) {
      log_.warning("prune_failed", {{"reason", r.status.message}});
    } else if (r.looked > 0) {
      for (std::size_t i = 0; i < kPruneKindCount; ++i) {
        if (r.pruned[i] > 0)
          metrics_.rows_pruned[std::string(prune_kind_name(kPruneKinds[i]))] += r.pruned[i];
        pruned_since_summary_[i] += r.pruned[i];
      }
      log_.debug("prune_batch", {{"rows", r.total()}, {"looked", r.looked}, {"more", r.more},
                                 {"ms", took.count()}});
    }
  }
  if (quiet() && steady - last_web_prune_ >= kWebPruneEvery) {
    last_web_prune_ = steady;
    std::string error;
    if (const auto n = WebLogin(db_, config_.web, service_).prune(now(), &error); !n)
      log_.warning("prune_failed", {{"what", "web sign-in"}, {"reason", error}});
    else if (*n > 0)
      log_.debug("prune_batch", {{"what", "web sign-in"}, {"rows", *n}});
    // And the console's sessions past their idle or absolute end.
    console_.prune(now());
  }
  std::int64_t since = 0;
  for (const auto n : pruned_since_summary_) since += n;
  if (since > 0 && steady - last_prune_summary_ >= kPruneSummaryEvery) {
    last_prune_summary_ = steady;
    const auto& p = pruned_since_summary_;
    log_.info("pruned", {{"message_bodies", p[0]}, {"message_parts", p[1]}, {"receipts", p[2]},
                         {"inbox", p[3]}, {"ussd_screens", p[4]}, {"ussd_sessions", p[5]},
                         {"message_rows", p[6]}});
    pruned_since_summary_ = {};
  }
  retention_timer_.expires_after(config_.retention.batch_interval);
  retention_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) prune_when_quiet();
  });
}

}  // namespace giftgate
