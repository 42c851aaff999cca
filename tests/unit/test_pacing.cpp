#include <doctest/doctest.h>

#include "protocol/net/pacing.hpp"

using namespace giftgate::smpp;
using namespace std::chrono_literals;

TEST_CASE("token bucket: a burst, then the configured rate") {
  const auto t0 = Clock::time_point{} + 1h;
  TokenBucket bucket(10.0, 3.0, t0);
  CHECK(bucket.try_take(t0));
  CHECK(bucket.try_take(t0));
  CHECK(bucket.try_take(t0));
  CHECK_FALSE(bucket.try_take(t0));
  // One token every 100 ms at 10 per second.
  CHECK(bucket.wait(t0) > 99ms);
  CHECK(bucket.wait(t0) <= 101ms);
  CHECK_FALSE(bucket.try_take(t0 + 50ms));
  CHECK(bucket.try_take(t0 + 100ms));
  // Over one simulated second, at most rate + burst tokens.
  int taken = 0;
  for (auto t = t0 + 100ms; t < t0 + 1100ms; t += 1ms)
    if (bucket.try_take(t)) ++taken;
  CHECK(taken >= 9);
  CHECK(taken <= 10);
}

TEST_CASE("token bucket: rate 0 means no limit") {
  TokenBucket bucket(0, 1, Clock::now());
  for (int i = 0; i < 1000; ++i) REQUIRE(bucket.try_take(Clock::now()));
  CHECK(bucket.wait(Clock::now()) == Clock::duration::zero());
}

TEST_CASE("back-off doubles up to the maximum, with jitter, and resets") {
  Backoff backoff(100ms, 1600ms, 0.2, 42);
  std::vector<Clock::duration> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(backoff.next());
  CHECK(delays[0] >= 80ms);
  CHECK(delays[0] <= 120ms);
  CHECK(delays[1] >= 160ms);
  CHECK(delays[1] <= 240ms);
  CHECK(delays[3] >= 640ms);
  for (const auto d : delays) CHECK(d <= 1600ms);
  CHECK(delays[7] >= 1280ms);  // capped, jitter only shortens it
  backoff.reset();
  CHECK(backoff.next() <= 120ms);
}

TEST_CASE("back-off jitter spreads gateways that start together") {
  Backoff a(1000ms, 60000ms, 0.2, 1);
  Backoff b(1000ms, 60000ms, 0.2, 2);
  CHECK(a.next() != b.next());
}

TEST_CASE("send pacer: the rate holds submits back until a token is there") {
  const auto t0 = Clock::time_point{} + 1h;
  SendPacer pacer(10.0, 2.0, 1s, 30s, 7, t0);
  CHECK_FALSE(pacer.hold(t0));
  CHECK_FALSE(pacer.hold(t0));
  const auto until = pacer.hold(t0);
  REQUIRE(until);
  CHECK(*until > t0 + 99ms);
  CHECK(*until <= t0 + 101ms);
  // Asking does not use a token up: at that time one is there.
  CHECK_FALSE(pacer.hold(*until));
}

TEST_CASE("send pacer: a throttling refusal pauses sending, one pause for a whole window") {
  const auto t0 = Clock::time_point{} + 1h;
  SendPacer pacer(0, 1, 1000ms, 30s, 7, t0);  // no rate limit: only the pause holds
  CHECK_FALSE(pacer.hold(t0));
  const auto pause = pacer.throttled(t0);
  REQUIRE(pause);
  CHECK(*pause >= 900ms);
  CHECK(*pause <= 1100ms);
  CHECK(pacer.hold(t0 + 1ms) == t0 + *pause);
  // The rest of the window, refused during the pause: no new, longer pause.
  CHECK_FALSE(pacer.throttled(t0 + 2ms));
  CHECK_FALSE(pacer.throttled(t0 + *pause - 1ms));
  CHECK(pacer.hold(t0 + 3ms) == t0 + *pause);
  CHECK_FALSE(pacer.hold(t0 + *pause));
}

TEST_CASE("send pacer: refusals that go on after a pause lengthen it, an acceptance resets it") {
  const auto t0 = Clock::time_point{} + 1h;
  SendPacer pacer(0, 1, 1000ms, 3000ms, 7, t0);
  auto t = t0;
  const auto first = pacer.throttled(t);
  REQUIRE(first);
  t += *first;
  const auto second = pacer.throttled(t);
  REQUIRE(second);
  CHECK(*second >= 1800ms);
  t += *second;
  const auto third = pacer.throttled(t);
  REQUIRE(third);
  CHECK(*third <= 3000ms);  // capped at pause_max
  CHECK(*third >= 2700ms);
  t += *third;
  pacer.accepted();
  const auto after = pacer.throttled(t);
  REQUIRE(after);
  CHECK(*after <= 1100ms);
}

TEST_CASE("token bucket: a new rate applies from the change on, keeping what was earned") {
  const auto t0 = Clock::time_point{} + 1h;
  TokenBucket bucket(10.0, 1.0, t0);
  CHECK(bucket.try_take(t0));
  // 50 ms at 10/s earned half a token; at 100/s the other half takes 5 ms.
  bucket.set_rate(100.0, 1.0, t0 + 50ms);
  CHECK(bucket.rate() == 100.0);
  CHECK_FALSE(bucket.try_take(t0 + 50ms));
  CHECK(bucket.wait(t0 + 50ms) <= 6ms);
  CHECK(bucket.try_take(t0 + 56ms));
  // Slower again: one every 500 ms; no fresh burst from the change.
  bucket.set_rate(2.0, 1.0, t0 + 56ms);
  CHECK_FALSE(bucket.try_take(t0 + 56ms));
  CHECK_FALSE(bucket.try_take(t0 + 500ms));
  CHECK(bucket.try_take(t0 + 557ms));
  // A smaller burst takes the savings down to it.
  TokenBucket saver(10.0, 5.0, t0);
  saver.set_rate(10.0, 2.0, t0);
  CHECK(saver.try_take(t0));
  CHECK(saver.try_take(t0));
  CHECK_FALSE(saver.try_take(t0));
  // 0 lifts the limit; a limit set again goes on from the savings it left.
  saver.set_rate(0, 1.0, t0);
  for (int i = 0; i < 100; ++i) REQUIRE(saver.try_take(t0));
  saver.set_rate(1.0, 1.0, t0);
  CHECK_FALSE(saver.try_take(t0));
  CHECK(saver.try_take(t0 + 1s));
}

TEST_CASE("send pacer: a rate change keeps a running throttling pause and its back-off") {
  const auto t0 = Clock::time_point{} + 1h;
  SendPacer pacer(10.0, 1.0, 1000ms, 30s, 7, t0);
  CHECK_FALSE(pacer.hold(t0));
  const auto first = pacer.throttled(t0);
  REQUIRE(first);
  // Re-divided while paused: still paused until the same time.
  pacer.set_rate(1000.0, 1.0, t0 + 10ms);
  CHECK(pacer.rate() == 1000.0);
  CHECK(pacer.hold(t0 + 10ms) == t0 + *first);
  // After the pause the new rate holds: 1000/s lets ten go in 10 ms.
  auto t = t0 + *first;
  int sent = 0;
  for (auto at = t; at < t + 10ms; at += 100us)
    if (!pacer.hold(at)) ++sent;
  CHECK(sent >= 9);
  CHECK(sent <= 11);
  // The back-off was not reset: a refusal now pauses about twice as long.
  const auto second = pacer.throttled(t + 10ms);
  REQUIRE(second);
  CHECK(*second >= 1800ms);
}
