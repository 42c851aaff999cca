// Pushes (and reminders) from the gateway's thread. With no MO for a
// moment, a push takes whole steps (pushes.batch) between batches; while
// MOs come, a few turns at a time, inside the batch that commits them or
// between batches, so no answer waits behind a long step. What a push
// queues goes out with the capacity replies leave (take_due's bulk limit,
// the session's bulk priority).
#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/gateway/gateway.hpp"

namespace giftgate {
namespace {

// How often a push may take a step while it has work; the rate is kept by
// the credit each step adds, so this only bounds how finely it is cut.
constexpr auto kPushEvery = std::chrono::milliseconds(50);
// With nothing to do, how often pushes whose time came are looked for.
constexpr auto kPushIdle = std::chrono::seconds(1);
// The per-push counts for the metrics are read this often.
constexpr auto kPushCountsEvery = std::chrono::seconds(5);
// Inside a batch of MOs (push_turns_in_batch): at most this many turns,
// at most this often, so each batch grows by a millisecond or two.
constexpr std::size_t kPushTurnsPerBatch = 5;
constexpr auto kPushInBatchEvery = std::chrono::milliseconds(10);
// An MO came this recently: members are waiting on answers.
constexpr auto kBusyFor = std::chrono::milliseconds(200);
// Reminders are looked for this often (a batch each time, if due).
constexpr auto kRemindersEvery = std::chrono::seconds(1);

}  // namespace

bool Gateway::quiet_hours() const {
  return config_.pushes.quiet.contains(local_minute_of_day(config_.time_zone, now()));
}

std::size_t Gateway::bulk_room() const {
  if (quiet_hours()) return 0;
  // One window per connection at most: the other of its two stays for
  // replies, so a reply never waits for a window a push fills.
  std::size_t room = 0;
  for (const auto& c : conns_) {
    if (!c.bound) continue;
    const std::size_t window = entry(c).session.window;
    if (c.in_flight < window) room += window - c.in_flight;
  }
  return room;
}

bool Gateway::after_push_step(const Pushes::Step& step) {
  for (const auto& name : step.started) log_.info("push_started", {{"push", name}});
  for (const auto& name : step.finished) log_.info("push_finished", {{"push", name}});
  if (!step.status.ok()) {
    // Nothing of the failed batch was kept: the next step does it again.
    log_.warning("push_step_failed", {{"reason", step.status.message}});
    return false;
  }
  if (step.selected > 0 || step.queued > 0 || step.skipped > 0)
    log_.debug("push_step", {{"selected", step.selected},
                              {"queued", step.queued},
                              {"skipped", step.skipped}});
  push_sending_ = step.more;
  return step.queued > 0;
}

void Gateway::push_turns_in_batch() {
  // Only while MOs come; otherwise push_step takes whole batches.
  const auto steady = std::chrono::steady_clock::now();
  if (!push_sending_ || stopping_ || steady - last_mo_ >= kBusyFor || quiet_hours()) return;
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady - last_push_step_);
  if (elapsed < kPushInBatchEvery) return;
  last_push_step_ = steady;
  if (after_push_step(pushes_.step(now(), elapsed, kPushTurnsPerBatch))) outbox_dirty_ = true;
}

void Gateway::push_step() {
  if (stopping_) return;
  const auto steady = std::chrono::steady_clock::now();
  std::chrono::milliseconds wait = kPushIdle;
  // Never inside the open batch (push_turns_in_batch does that), never
  // while MOs wait their turn.
  if (batch_.state() == GroupCommit<smpp::Responder>::State::idle && waiting_.empty()) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        last_push_step_ == std::chrono::steady_clock::time_point{} ? kPushEvery
                                                                   : steady - last_push_step_);
    last_push_step_ = steady;
    // While MOs come, a step is as small as one inside a batch.
    const bool busy = steady - last_mo_ < kBusyFor;
    const auto step = pushes_.step(now(), elapsed, busy ? kPushTurnsPerBatch : 0);
    bool queued = after_push_step(step);
    // Reminders: a batch a second at most, while the bulk waiting in the
    // outbox is less than a push may have (a fixed expiry date makes every
    // voucher due at once).
    if (step.status.ok() && steady - last_reminders_ >= kRemindersEvery) {
      last_reminders_ = steady;
      db::Status s;
      const auto waiting = db_.first_int(
          "SELECT COUNT(*) FROM outbox INDEXED BY outbox_fair WHERE state = 'queued' AND priority = 2", &s);
      if (waiting && *waiting < config_.pushes.max_queued) {
        const auto r = reminders_.step(now(), static_cast<std::size_t>(config_.pushes.batch));
        if (!r.status.ok()) {
          log_.warning("reminders_failed", {{"reason", r.status.message}});
        } else if (r.queued + r.skipped > 0) {
          log_.info("reminders_queued", {{"queued", r.queued}, {"skipped", r.skipped}, {"more", r.more}});
          queued = queued || r.queued > 0;
        }
      } else if (!waiting) {
        log_.warning("reminders_failed", {{"reason", s.message}});
      }
    }
    if (queued) {
      outbox_dirty_ = true;
      batch_.join();  // its commit takes what is due
    }
    // While a push sends, come back soon: the credit and the room decide.
    if (step.more || step.queued > 0 || step.selected > 0) wait = kPushEvery;
    if (!step.started.empty() || !step.finished.empty() || steady - last_push_counts_ >= kPushCountsEvery) {
      last_push_counts_ = steady;
      if (auto live = pushes_.live()) push_counts_ = std::move(*live);
    }
  } else {
    wait = kPushEvery;
  }
  push_timer_.expires_after(wait);
  push_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) push_step();
  });
}

}  // namespace giftgate
