#include <doctest/doctest.h>

#include "protocol/net/read_flow.hpp"

using namespace giftgate::smpp;

TEST_CASE("read flow: reading pauses at max_inbound_pending and resumes at 80 %") {
  ReadFlow flow(10, 100);
  for (int i = 0; i < 9; ++i) flow.taken();
  CHECK_FALSE(flow.full());
  flow.taken();
  REQUIRE(flow.full());
  CHECK(flow.pause() == "inbound_pending");
  CHECK(flow.paused());
  CHECK_FALSE(flow.answered());  // 9
  CHECK(flow.answered());        // 8 of 10: resumes, once
  CHECK_FALSE(flow.paused());
  CHECK_FALSE(flow.answered());
}

TEST_CASE("read flow: a full write queue pauses reading until writes drain") {
  ReadFlow flow(64, 10);
  flow.queued(9);
  CHECK_FALSE(flow.full());
  flow.queued();  // 10: the bound
  REQUIRE(flow.full());
  CHECK(flow.pause() == "write_queue");
  flow.queued(5);  // submits and answers are still queued while paused: never dropped
  CHECK(flow.write_queue() == 15);
  CHECK_FALSE(flow.wrote(5));  // 10 still queued
  CHECK_FALSE(flow.wrote(1));  // 9
  CHECK(flow.wrote(1));        // 8 of 10
  CHECK_FALSE(flow.paused());
  CHECK_FALSE(flow.wrote(8));  // not paused: nothing to resume
  CHECK(flow.write_queue() == 0);
}

TEST_CASE("read flow: reading resumes only when both the answers and the writes allow it") {
  ReadFlow flow(5, 10);
  for (int i = 0; i < 5; ++i) flow.taken();
  flow.queued(10);
  REQUIRE(flow.full());
  flow.pause();
  CHECK_FALSE(flow.wrote(10));  // the write queue is empty, but 5 MOs wait
  CHECK(flow.paused());
  CHECK(flow.answered());  // 4 of 5: now both allow it
  CHECK_FALSE(flow.paused());
}

TEST_CASE("read flow: a new connection starts unpaused and empty") {
  ReadFlow flow(1, 1);
  flow.taken();
  flow.queued();
  flow.pause();
  flow.reset();
  CHECK_FALSE(flow.paused());
  CHECK_FALSE(flow.full());
  CHECK(flow.unanswered() == 0);
  CHECK(flow.write_queue() == 0);
}

TEST_CASE("read flow: the write queue's bound leaves room for a window, the MO answers and control PDUs") {
  CHECK(ReadFlow::write_queue_bound(10, 64) == 10 + 64 + ReadFlow::kControlSlack);
  ReadFlow flow(64, ReadFlow::write_queue_bound(10, 64));
  // A full window and every pending MO answered at once do not pause reading.
  flow.queued(10 + 64);
  CHECK_FALSE(flow.full());
  flow.queued(ReadFlow::kControlSlack);
  CHECK(flow.full());
}
