// The requests an ESME has written to the SMSC and awaits answers to: their
// sequence numbers, what each one is, and when each one times out. No socket
// and no clock of its own: every time is an argument, so tests need no sleep.
//
// Contract:
// - allocate() hands out sequence numbers from `first_sequence` upwards,
//   wrapping from 0x7FFFFFFF to 1 (SMPP 3.4 leaves 0 and the top half to
//   others), and skips any number still outstanding.
// - A tracked request ends exactly once: answered (answer() matched it),
//   expired (pop_expired() returned it) or forgotten (forget(), clear()).
// - answer() matches a response only to an outstanding request with its
//   sequence number, and only if it is generic_nack or the response that
//   request waits for; anything else changes nothing (a late answer after a
//   timeout, a wrong command): what waits for that number waits on.
// - pop_expired(now) returns the outstanding requests whose deadline is
//   at or before `now`, one per call, earliest deadline first (then the
//   lower sequence number).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "protocol/net/pacing.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::smpp {

class RequestTracker {
 public:
  enum class Kind { bind, submit, enquire_link, unbind };

  struct Request {
    std::uint32_t sequence = 0;
    Kind kind = Kind::submit;
    Clock::time_point deadline;
  };

  // `bind` says which bind response a bind request waits for; a
  // `first_sequence` of 0 or above 0x7FFFFFFF starts at 1.
  RequestTracker(BindKind bind, std::uint32_t first_sequence);

  // The next free sequence number (not yet tracked: a PDU that cannot be
  // encoded is never written, and its number is simply skipped).
  std::uint32_t allocate();
  // Waits for an answer to `sequence` until `deadline`.
  void track(std::uint32_t sequence, Kind kind, Clock::time_point deadline);

  // The request this response answers, now ended; nothing if it answers none.
  std::optional<Kind> answer(std::uint32_t sequence, CommandId response);
  // One request whose deadline has passed, now ended; nothing if none has.
  std::optional<Request> pop_expired(Clock::time_point now);
  // When the earliest outstanding request times out.
  std::optional<Clock::time_point> next_deadline() const;

  // Ends every outstanding request of this kind unanswered.
  void forget(Kind kind);
  // Ends every outstanding request (the connection is gone); numbering goes on.
  void clear();

  std::size_t outstanding() const { return requests_.size(); }
  bool outstanding(std::uint32_t sequence) const { return requests_.count(sequence) != 0; }

  // The response each kind of request waits for.
  static CommandId expected_response(Kind kind, BindKind bind);

 private:
  struct Entry {
    Kind kind;
    Clock::time_point deadline;
  };
  BindKind bind_;
  std::uint32_t next_;
  std::map<std::uint32_t, Entry> requests_;
  std::set<std::pair<Clock::time_point, std::uint32_t>> deadlines_;
};

}  // namespace giftgate::smpp
