#include "protocol/net/pacing.hpp"

#include <algorithm>
#include <cmath>

namespace giftgate::smpp {

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now)
    : rate_(std::max(rate, 0.0)), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool TokenBucket::try_take(Clock::time_point now) {
  if (rate_ <= 0) return true;
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

Clock::duration TokenBucket::wait(Clock::time_point now) {
  if (rate_ <= 0) return Clock::duration::zero();
  refill(now);
  if (tokens_ >= 1.0) return Clock::duration::zero();
  const double seconds = (1.0 - tokens_) / rate_;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) +
         Clock::duration(1);
}

void TokenBucket::set_rate(double rate, double burst, Clock::time_point now) {
  // What was earned at the old rate up to now stays earned.
  refill(now);
  rate_ = std::max(rate, 0.0);
  burst_ = std::max(burst, 1.0);
  tokens_ = std::min(tokens_, burst_);
}

Backoff::Backoff(Clock::duration min, Clock::duration max, double jitter, std::uint64_t seed)
    : min_(min), max_(std::max(min, max)), jitter_(std::clamp(jitter, 0.0, 1.0)), random_(seed) {}

Clock::duration Backoff::next() {
  const unsigned shift = std::min(attempts_, 30u);
  ++attempts_;
  const double base = std::min(static_cast<double>(max_.count()),
                               static_cast<double>(min_.count()) * std::ldexp(1.0, shift));
  std::uniform_real_distribution<double> spread(1.0 - jitter_, 1.0 + jitter_);
  const double delay = std::min(base * spread(random_), static_cast<double>(max_.count()));
  return Clock::duration(static_cast<Clock::rep>(delay));
}

SendPacer::SendPacer(double rate, double burst, Clock::duration pause_min,
                     Clock::duration pause_max, std::uint64_t seed, Clock::time_point now)
    // A little jitter, so that gateways refused together do not return together.
    : bucket_(rate, burst, now), backoff_(pause_min, pause_max, 0.1, seed) {}

std::optional<Clock::time_point> SendPacer::hold(Clock::time_point now) {
  if (now < paused_until_) return paused_until_;
  if (!bucket_.try_take(now)) return now + bucket_.wait(now);
  return std::nullopt;
}

std::optional<Clock::duration> SendPacer::throttled(Clock::time_point now) {
  if (now < paused_until_) return std::nullopt;
  const auto pause = backoff_.next();
  paused_until_ = now + pause;
  return pause;
}

}  // namespace giftgate::smpp
