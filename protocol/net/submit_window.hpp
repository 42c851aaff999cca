// The outbound side of a bind without its socket: the queues of submits
// waiting to be written and the window of those written and unanswered.
//
// Contract:
// - Every submit offered ends in exactly one call of its handler, with one
//   outcome (see SubmitOutcome): at once when it cannot be queued, later
//   by settle(), settle_unwritten(), fail_in_flight(), return_queued() or
//   stop(), or when an urgent offer takes its place in a full queue. A
//   submit requeued after a throttling refusal has had no outcome yet.
// - Each submit is urgent (someone waits for it: a reply, a USSD screen) or
//   bulk (no one does: a push); see SubmitPriority. They wait in two
//   queues; take_next() gives the oldest urgent submit, and a bulk one only
//   while no urgent one waits, so an answer never waits behind a push.
// - At most `window` submits are in flight, and a bulk one is written only
//   while fewer than `window - bulk_reserve()` are: the last slots are kept
//   for urgent submits, so they find room even when bulk fills the rest.
//   Within each queue submits are written in the order offered, except that
//   a requeued one goes back to the front of its own queue.
// - At most `max_queue` submits wait, both queues together. One more bulk
//   submit is returned (queue_full); one more urgent submit is too when no
//   bulk one waits, else the newest bulk submit is returned (queue_full)
//   to make room for it.
// - After stop(), nothing more is queued: every waiting submit, every one
//   offered later and every one requeued later is returned (stopped);
//   those in flight still end by their answer, their timeout or
//   fail_in_flight().
// - return_queued() returns every waiting submit, of both queues (requeued
//   ones included), and leaves the window open; while refuse_offers()
//   holds, until accept_offers(), every submit offered or requeued is
//   returned at once with its reason. A session whose owner would rather
//   send elsewhere than wait for a reconnect uses these
//   (SessionSettings::return_queued_when_down).
// The window has no clock and no socket: the session decides when to write
// and when an answer is late.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <system_error>

#include "protocol/pdu.hpp"

namespace giftgate::smpp {

// How one submit ended.
struct SubmitOutcome {
  enum class Kind { sent, failed, returned };
  Kind kind = Kind::failed;
  std::string message_id;            // sent
  std::uint32_t command_status = 0;  // failed by the SMSC's answer
  std::error_code error;             // failed or returned by the session
  bool in_doubt = false;
  Tlvs tlvs;  // the submit_sm_resp's optional parameters (failure reason and the like)
};

// failed: the SMSC refused it, or the session gave up on it; `in_doubt`
// when it had been written and no answer came.
SubmitOutcome submit_failed(std::error_code error, std::uint32_t command_status, bool in_doubt);
// returned: it was never written to the SMSC.
SubmitOutcome submit_returned(std::error_code error);

using SubmitHandler = std::function<void(SubmitOutcome)>;

// Whether someone waits for a submit: urgent ones (replies, USSD screens)
// are written before every bulk one (pushes) and keep the window's last
// slots for themselves.
enum class SubmitPriority { urgent, bulk };

class SubmitWindow {
 public:
  struct Limits {
    std::size_t window = 10;        // written and unanswered; at least 1
    std::size_t max_queue = 100000;  // waiting to be written
    bool can_send = true;           // false for a receiver bind: every submit fails
  };
  struct Submit {
    SubmitSm message;
    SubmitHandler handler;
    SubmitPriority priority = SubmitPriority::urgent;
  };
  // Told of every outcome before its handler runs (for counters).
  using Observer = std::function<void(SubmitOutcome::Kind)>;

  explicit SubmitWindow(Limits limits, Observer observer = {});

  // Queues a submit, or ends it at once (stopped, receiver bind, queue full).
  void offer(SubmitSm message, SubmitHandler handler,
             SubmitPriority priority = SubmitPriority::urgent);

  // True when a submit waits and the window has room for it: any room for
  // an urgent one, room beyond the reserve for a bulk one.
  bool can_write() const {
    return (!urgent_.empty() && in_flight_.size() < limits_.window) ||
           (!bulk_.empty() && in_flight_.size() + bulk_reserve() < limits_.window);
  }
  // The submit to write next, out of its queue: the oldest urgent one, else
  // the oldest bulk one; only when can_write().
  Submit take_next();
  // The window's slots bulk submits leave to urgent ones: a fifth, at least
  // one; none in a window of one, where bulk could otherwise never go.
  std::size_t bulk_reserve() const {
    return limits_.window < 2 ? 0 : std::max<std::size_t>(1, limits_.window / 5);
  }
  // The taken submit was written with this sequence number.
  void written(std::uint32_t sequence, Submit submit);
  // The taken submit will never be written (it cannot be encoded).
  void settle_unwritten(Submit submit, SubmitOutcome outcome);

  // The submit in flight under this number ends with this outcome.
  void settle(std::uint32_t sequence, SubmitOutcome outcome);
  // The SMSC asked to slow down: the submit goes back to the front of its
  // queue, with no outcome yet (returned at once after stop()).
  void requeue(std::uint32_t sequence);
  // Every submit in flight fails (connection lost, stop timed out).
  void fail_in_flight(std::error_code error, bool in_doubt);
  // Every waiting submit is returned with `error`; later offers queue as usual.
  void return_queued(std::error_code error);
  // From now on every submit offered or requeued is returned at once with
  // `error` (the bind is down), until accept_offers().
  void refuse_offers(std::error_code error) { refusing_ = error; }
  void accept_offers() { refusing_.clear(); }

  // Returns every waiting submit, and refuses those offered from now on.
  void stop();

  bool stopped() const { return stopped_; }
  std::size_t in_flight() const { return in_flight_.size(); }
  // Waiting to be written, both queues together.
  std::size_t queued() const { return urgent_.size() + bulk_.size(); }
  // Of those, the bulk ones.
  std::size_t queued_bulk() const { return bulk_.size(); }

 private:
  void finish(SubmitHandler& handler, SubmitOutcome outcome);
  std::deque<Submit>& queue_of(SubmitPriority priority) {
    return priority == SubmitPriority::bulk ? bulk_ : urgent_;
  }
  // Every waiting submit, bulk ones last, with `outcome`; the queues are
  // emptied first, since a handler may offer again.
  void return_all_queued(const SubmitOutcome& outcome);

  Limits limits_;
  Observer observer_;
  std::deque<Submit> urgent_;
  std::deque<Submit> bulk_;
  std::map<std::uint32_t, Submit> in_flight_;  // by sequence number
  bool stopped_ = false;
  std::error_code refusing_;  // set: offers are returned with it
};

}  // namespace giftgate::smpp
