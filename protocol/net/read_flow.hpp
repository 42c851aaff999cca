// When a session reads from the SMSC and when it stops, so that neither the
// work handed to the owner nor the PDUs waiting to be written outgrow their
// bounds. Beast's examples do the same: a full write queue stops reading.
//
// Contract:
// - full() holds while `max_inbound_pending` MOs are unanswered, or while
//   the write queue (PDUs encoded and not yet written) holds its bound or
//   more; the session then takes no more frames from its buffer and stops
//   reading the socket. Nothing is ever dropped: every PDU queued is written
//   and the unread bytes wait in the kernel, pushing back on the SMSC.
// - Once paused, reading resumes only when both are at 80 % of their bound
//   or less (no flapping at the edge); answered() and wrote() say when that
//   moment has come, exactly once per pause.
// - The write queue's bound is derived, not configured: a window of submits,
//   the answers to a full set of pending MOs, and a batch of control PDUs
//   (enquire_link_resp, generic_nack) that reading itself may cause.
// No socket and no clock: the session reports what happened.
#pragma once

#include <cstddef>
#include <string_view>

namespace giftgate::smpp {

class ReadFlow {
 public:
  // Control PDUs allowed for beyond submits and MO answers.
  static constexpr std::size_t kControlSlack = 64;
  static std::size_t write_queue_bound(std::size_t window, std::size_t max_inbound_pending) {
    return window + max_inbound_pending + kControlSlack;
  }

  ReadFlow(std::size_t max_inbound_pending, std::size_t max_write_queue);

  // A new connection: nothing pending, nothing queued, reading.
  void reset();

  // An MO was handed to the owner.
  void taken() { ++unanswered_; }
  // An MO was answered; true when reading resumes now.
  bool answered();
  // `n` PDUs were queued for writing.
  void queued(std::size_t n = 1) { write_queue_ += n; }
  // `n` queued PDUs were written; true when reading resumes now.
  bool wrote(std::size_t n);

  // No more frames may be taken in.
  bool full() const {
    return unanswered_ >= max_unanswered_ || write_queue_ >= max_write_queue_;
  }
  // Reading stops (the session saw full()); says why, for the log.
  std::string_view pause();
  bool paused() const { return paused_; }

  std::size_t unanswered() const { return unanswered_; }
  std::size_t write_queue() const { return write_queue_; }
  std::size_t write_queue_bound() const { return max_write_queue_; }

 private:
  bool resume_if_drained();

  std::size_t max_unanswered_;
  std::size_t max_write_queue_;
  std::size_t unanswered_ = 0;
  std::size_t write_queue_ = 0;
  bool paused_ = false;
};

}  // namespace giftgate::smpp
