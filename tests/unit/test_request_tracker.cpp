#include <doctest/doctest.h>

#include "protocol/net/request_tracker.hpp"

using namespace giftgate::smpp;
using namespace std::chrono_literals;
using Kind = RequestTracker::Kind;

namespace {
const auto t0 = Clock::time_point{} + 1h;
}

TEST_CASE("request tracker: sequence numbers count up and wrap from 0x7FFFFFFF to 1") {
  RequestTracker tracker(BindKind::transceiver, 0x7FFFFFFE);
  CHECK(tracker.allocate() == 0x7FFFFFFE);
  CHECK(tracker.allocate() == 0x7FFFFFFF);
  CHECK(tracker.allocate() == 1);
  CHECK(tracker.allocate() == 2);
}

TEST_CASE("request tracker: 0 and the top half are never handed out") {
  CHECK(RequestTracker(BindKind::transmitter, 0).allocate() == 1);
  CHECK(RequestTracker(BindKind::transmitter, 0x80000000).allocate() == 1);
  CHECK(RequestTracker(BindKind::transmitter, 0xFFFFFFFF).allocate() == 1);
}

TEST_CASE("request tracker: a number still outstanding after the wrap is skipped") {
  RequestTracker tracker(BindKind::transceiver, 0x7FFFFFFF);
  // 1 and 2 still wait for answers when the numbers come round.
  tracker.track(1, Kind::submit, t0 + 10s);
  tracker.track(2, Kind::enquire_link, t0 + 10s);
  CHECK(tracker.allocate() == 0x7FFFFFFF);
  CHECK(tracker.allocate() == 3);
  CHECK(tracker.allocate() == 4);
}

TEST_CASE("request tracker: a response ends only the request it answers") {
  RequestTracker tracker(BindKind::transceiver, 1);
  const auto bind = tracker.allocate();
  tracker.track(bind, Kind::bind, t0 + 10s);
  const auto submit = tracker.allocate();
  tracker.track(submit, Kind::submit, t0 + 10s);
  CHECK(tracker.outstanding() == 2);

  // The wrong command for that number: it waits on.
  CHECK_FALSE(tracker.answer(submit, CommandId::enquire_link_resp));
  CHECK_FALSE(tracker.answer(bind, CommandId::bind_transmitter_resp));
  // A number nobody waits for.
  CHECK_FALSE(tracker.answer(99, CommandId::submit_sm_resp));
  CHECK(tracker.outstanding() == 2);

  CHECK(tracker.answer(bind, CommandId::bind_transceiver_resp) == Kind::bind);
  CHECK(tracker.answer(submit, CommandId::submit_sm_resp) == Kind::submit);
  CHECK(tracker.outstanding() == 0);
  // A second answer to the same number is late: it answers nothing.
  CHECK_FALSE(tracker.answer(submit, CommandId::submit_sm_resp));
  CHECK_FALSE(tracker.next_deadline());
}

TEST_CASE("request tracker: generic_nack answers any kind of request") {
  RequestTracker tracker(BindKind::receiver, 1);
  for (const Kind kind : {Kind::bind, Kind::submit, Kind::enquire_link, Kind::unbind}) {
    const auto seq = tracker.allocate();
    tracker.track(seq, kind, t0 + 1s);
    CHECK(tracker.answer(seq, CommandId::generic_nack) == kind);
  }
  CHECK(tracker.outstanding() == 0);
}

TEST_CASE("request tracker: each kind waits for its own response") {
  CHECK(RequestTracker::expected_response(Kind::bind, BindKind::receiver) ==
        CommandId::bind_receiver_resp);
  CHECK(RequestTracker::expected_response(Kind::submit, BindKind::receiver) ==
        CommandId::submit_sm_resp);
  CHECK(RequestTracker::expected_response(Kind::enquire_link, BindKind::transceiver) ==
        CommandId::enquire_link_resp);
  CHECK(RequestTracker::expected_response(Kind::unbind, BindKind::transceiver) ==
        CommandId::unbind_resp);
}

TEST_CASE("request tracker: requests time out at their deadline, earliest first") {
  RequestTracker tracker(BindKind::transceiver, 1);
  // Timeouts differ per kind, so deadlines do not follow the numbering.
  tracker.track(tracker.allocate(), Kind::submit, t0 + 10s);       // 1
  tracker.track(tracker.allocate(), Kind::unbind, t0 + 2s);        // 2
  tracker.track(tracker.allocate(), Kind::enquire_link, t0 + 10s);  // 3
  tracker.track(tracker.allocate(), Kind::submit, t0 + 5s);        // 4
  CHECK(tracker.next_deadline() == t0 + 2s);

  CHECK_FALSE(tracker.pop_expired(t0 + 1999ms));
  auto expired = tracker.pop_expired(t0 + 2s);  // at the deadline, not after it
  REQUIRE(expired);
  CHECK(expired->sequence == 2);
  CHECK(expired->kind == Kind::unbind);
  CHECK(expired->deadline == t0 + 2s);
  CHECK_FALSE(tracker.pop_expired(t0 + 4s));
  CHECK(tracker.next_deadline() == t0 + 5s);

  // Answered before its deadline: it never times out.
  CHECK(tracker.answer(4, CommandId::submit_sm_resp) == Kind::submit);
  CHECK(tracker.next_deadline() == t0 + 10s);

  // Equal deadlines: the lower number first, then nothing left.
  expired = tracker.pop_expired(t0 + 1h);
  REQUIRE(expired);
  CHECK(expired->sequence == 1);
  expired = tracker.pop_expired(t0 + 1h);
  REQUIRE(expired);
  CHECK(expired->sequence == 3);
  CHECK(expired->kind == Kind::enquire_link);
  CHECK_FALSE(tracker.pop_expired(t0 + 1h));
  CHECK(tracker.outstanding() == 0);
}

TEST_CASE("request tracker: forget and clear end requests without a timeout") {
  RequestTracker tracker(BindKind::transceiver, 1);
  tracker.track(tracker.allocate(), Kind::submit, t0 + 1s);
  tracker.track(tracker.allocate(), Kind::unbind, t0 + 2s);
  tracker.track(tracker.allocate(), Kind::submit, t0 + 3s);
  tracker.forget(Kind::submit);
  CHECK(tracker.outstanding() == 1);
  CHECK(tracker.outstanding(2));
  CHECK_FALSE(tracker.outstanding(1));
  CHECK(tracker.next_deadline() == t0 + 2s);
  auto expired = tracker.pop_expired(t0 + 1h);
  REQUIRE(expired);
  CHECK(expired->kind == Kind::unbind);
  CHECK_FALSE(tracker.pop_expired(t0 + 1h));

  tracker.track(tracker.allocate(), Kind::enquire_link, t0 + 1s);
  tracker.clear();
  CHECK(tracker.outstanding() == 0);
  CHECK_FALSE(tracker.pop_expired(t0 + 1h));
  // The numbering goes on after a lost connection.
  CHECK(tracker.allocate() == 5);
}
