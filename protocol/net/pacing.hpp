// The two clocks of a polite ESME: a token bucket that keeps submits under the
// SMSC's rate, and an exponential back-off with jitter for reconnects and
// throttling. Both take the time as an argument so tests need no sleeping.
#pragma once

#include <chrono>
#include <cstdint>
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

  double rate() const { return rate_; }

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

}  // namespace giftgate::smpp
