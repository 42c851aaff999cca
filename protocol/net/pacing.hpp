// The clocks of a polite ESME: a token bucket that keeps submits under the
// SMSC's rate, an exponential back-off with jitter for reconnects and
// throttling, and the SendPacer that combines the two for submits. All take
// the time as an argument so tests need no sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace giftgate::smpp {

using Clock = std::chrono::steady_clock;

// Allows `rate` events per second on average and `burst` at once. A rate of 0
// means no limit.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, Clock::time_point now);

  // Takes one token if there is one.
  bool try_take(Clock::time_point now);
  // How long until a token will be there (zero if one is).
  Clock::duration wait(Clock::time_point now);
  // From `now` on, `rate` per second and up to `burst` at once; the tokens
  // saved up so far are kept (at most the new burst), so a change neither
  // grants a fresh burst nor takes away what was earned at the old rate.
  void set_rate(double rate, double burst, Clock::time_point now);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void refill(Clock::time_point now);

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

// Delays that double from `min` up to `max`, each spread by +/- `jitter`
// (a fraction) so that many gateways do not reconnect in step.
class Backoff {
 public:
  Backoff(Clock::duration min, Clock::duration max, double jitter, std::uint64_t seed);

  // The next delay; each call doubles the base.
  Clock::duration next();
  // Back to `min` (after a successful bind, or a submit accepted).
  void reset() { attempts_ = 0; }
  unsigned attempts() const { return attempts_; }

 private:
  Clock::duration min_;
  Clock::duration max_;
  double jitter_;
  unsigned attempts_ = 0;
  std::mt19937_64 random_;
};

// When the next submit may be written.
//
// Contract: hold(now) says nothing (and uses up one token of the rate) when a
// submit may go now, and otherwise the time to ask again (using up nothing).
// After throttled() no submit may go until the pause ends; a refusal during
// a running pause starts no new one (a whole window refused at once is one
// pause), and each pause that follows another refusal grows, from
// `pause_min` up to `pause_max`, until accepted() says the SMSC took one.
// set_rate() changes the rate from then on and leaves any pause, and how
// long the next one would be, as they were: a gateway that re-divides an
// account's rate between its binds must not undo a throttling back-off.
class SendPacer {
 public:
  SendPacer(double rate, double burst, Clock::duration pause_min, Clock::duration pause_max,
            std::uint64_t seed, Clock::time_point now);

  // Nothing: send now. A time: not before then.
  std::optional<Clock::time_point> hold(Clock::time_point now);
  // The SMSC refused a submit as throttled or queue-full: the pause begun,
  // or nothing if one was already running.
  std::optional<Clock::duration> throttled(Clock::time_point now);
  // The SMSC accepted a submit: the next pause starts short again.
  void accepted() { backoff_.reset(); }
  // A new rate (0: no limit) and burst from `now` on; pauses are untouched.
  void set_rate(double rate, double burst, Clock::time_point now) {
    bucket_.set_rate(rate, burst, now);
  }
  double rate() const { return bucket_.rate(); }

 private:
  TokenBucket bucket_;
  Backoff backoff_;
  Clock::time_point paused_until_{};
};

}  // namespace giftgate::smpp
