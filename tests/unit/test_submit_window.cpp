#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "protocol/error.hpp"
#include "protocol/net/submit_window.hpp"

using namespace giftgate::smpp;
using giftgate::smpp::errc;

namespace {

// Each submit is named by its short_message; every outcome is recorded
// under that name, so a second outcome for one submit shows.
struct Outcomes {
  std::map<std::string, std::vector<SubmitOutcome>> by_name;
  std::map<SubmitOutcome::Kind, int> observed;

  SubmitHandler handler(const std::string& name) {
    return [this, name](SubmitOutcome o) { by_name[name].push_back(std::move(o)); };
  }
  SubmitWindow::Observer observer() {
    return [this](SubmitOutcome::Kind kind) { ++observed[kind]; };
  }
  const SubmitOutcome& only(const std::string& name) {
    REQUIRE(by_name[name].size() == 1);
    return by_name[name].front();
  }
};

SubmitSm message(const std::string& name) {
  SubmitSm m;
  m.short_message.assign(name.begin(), name.end());
  return m;
}

SubmitOutcome sent(const std::string& id) {
  SubmitOutcome o;
  o.kind = SubmitOutcome::Kind::sent;
  o.message_id = id;
  return o;
}

void offer(SubmitWindow& window, Outcomes& outcomes, const std::string& name) {
  window.offer(message(name), outcomes.handler(name));
}

// Takes the next submit and "writes" it under `sequence`; its name.
std::string write_next(SubmitWindow& window, std::uint32_t sequence) {
  REQUIRE(window.can_write());
  auto next = window.take_next();
  const std::string name(next.message.short_message.begin(), next.message.short_message.end());
  window.written(sequence, std::move(next));
  return name;
}

}  // namespace

TEST_CASE("submit window: at most `window` in flight, written in the order offered") {
  Outcomes outcomes;
  SubmitWindow window({2, 100, true}, outcomes.observer());
  for (const char* name : {"a", "b", "c"}) offer(window, outcomes, name);
  CHECK(window.queued() == 3);
  CHECK(write_next(window, 1) == "a");
  CHECK(write_next(window, 2) == "b");
  CHECK_FALSE(window.can_write());  // the window is full, "c" waits
  CHECK(window.in_flight() == 2);

  window.settle(1, sent("m1"));
  CHECK(outcomes.only("a").kind == SubmitOutcome::Kind::sent);
  CHECK(outcomes.only("a").message_id == "m1");
  CHECK(write_next(window, 3) == "c");
  CHECK(window.queued() == 0);
  CHECK_FALSE(window.can_write());
}

TEST_CASE("submit window: a window of 0 still lets one through") {
  Outcomes outcomes;
  SubmitWindow window({0, 100, true});
  offer(window, outcomes, "a");
  offer(window, outcomes, "b");
  write_next(window, 1);
  CHECK_FALSE(window.can_write());
}

TEST_CASE("submit window: a full queue returns the submit, never drops it") {
  Outcomes outcomes;
  SubmitWindow window({1, 2, true}, outcomes.observer());
  for (const char* name : {"a", "b", "c"}) offer(window, outcomes, name);
  CHECK(window.queued() == 2);
  const auto& c = outcomes.only("c");
  CHECK(c.kind == SubmitOutcome::Kind::returned);
  CHECK(c.error == make_error_code(errc::queue_full));
  CHECK(outcomes.by_name["a"].empty());
  CHECK(outcomes.observed[SubmitOutcome::Kind::returned] == 1);
}

TEST_CASE("submit window: a receiver bind fails every submit at once") {
  Outcomes outcomes;
  SubmitWindow window({10, 100, false});
  offer(window, outcomes, "a");
  CHECK(window.queued() == 0);
  const auto& a = outcomes.only("a");
  CHECK(a.kind == SubmitOutcome::Kind::failed);
  CHECK(a.error == make_error_code(errc::not_bound_for_sending));
  CHECK_FALSE(a.in_doubt);
}

TEST_CASE("submit window: a throttled submit goes back to the front with no outcome") {
  Outcomes outcomes;
  SubmitWindow window({2, 100, true});
  for (const char* name : {"a", "b", "c"}) offer(window, outcomes, name);
  write_next(window, 1);
  write_next(window, 2);
  window.requeue(2);  // "b" refused as throttled
  window.requeue(1);  // then "a": the earlier one goes first again
  CHECK(outcomes.by_name["a"].empty());
  CHECK(outcomes.by_name["b"].empty());
  CHECK(window.in_flight() == 0);
  CHECK(write_next(window, 3) == "a");
  CHECK(write_next(window, 4) == "b");
  window.settle(3, sent("x"));
  CHECK(write_next(window, 5) == "c");
}

TEST_CASE("submit window: an answer for nothing in flight changes nothing") {
  Outcomes outcomes;
  SubmitWindow window({2, 100, true}, outcomes.observer());
  offer(window, outcomes, "a");
  write_next(window, 7);
  window.settle(8, sent("x"));
  window.requeue(8);
  CHECK(window.in_flight() == 1);
  window.settle(7, submit_failed(make_error_code(errc::submit_rejected), 0x45, false));
  window.settle(7, sent("late"));  // a second answer: already ended
  const auto& a = outcomes.only("a");
  CHECK(a.kind == SubmitOutcome::Kind::failed);
  CHECK(a.command_status == 0x45);
  CHECK(outcomes.observed[SubmitOutcome::Kind::failed] == 1);
  CHECK(outcomes.observed[SubmitOutcome::Kind::sent] == 0);
}

TEST_CASE("submit window: a lost connection fails what is in flight, in doubt, and keeps the queue") {
  Outcomes outcomes;
  SubmitWindow window({2, 100, true});
  for (const char* name : {"a", "b", "c"}) offer(window, outcomes, name);
  write_next(window, 1);
  write_next(window, 2);
  window.fail_in_flight(make_error_code(errc::connection_lost), true);
  for (const char* name : {"a", "b"}) {
    const auto& o = outcomes.only(name);
    CHECK(o.kind == SubmitOutcome::Kind::failed);
    CHECK(o.in_doubt);
    CHECK(o.error == make_error_code(errc::connection_lost));
  }
  CHECK(outcomes.by_name["c"].empty());
  CHECK(window.queued() == 1);
  CHECK(window.in_flight() == 0);
}

TEST_CASE("submit window: an unencodable submit fails without being in flight") {
  Outcomes outcomes;
  SubmitWindow window({1, 100, true});
  offer(window, outcomes, "a");
  offer(window, outcomes, "b");
  window.settle_unwritten(window.take_next(), submit_failed(make_error_code(errc::field_too_long), 0, false));
  CHECK(outcomes.only("a").kind == SubmitOutcome::Kind::failed);
  CHECK_FALSE(outcomes.only("a").in_doubt);
  CHECK(window.in_flight() == 0);
  CHECK(write_next(window, 1) == "b");
}

TEST_CASE("submit window: at stop every submit ends in exactly one outcome") {
  Outcomes outcomes;
  SubmitWindow window({3, 100, true}, outcomes.observer());
  for (const char* name : {"a", "b", "c", "d", "e", "f"}) offer(window, outcomes, name);
  write_next(window, 1);  // a
  write_next(window, 2);  // b
  write_next(window, 3);  // c
  window.stop();
  // The queue is returned at once; those in flight still end by their answers.
  for (const char* name : {"d", "e", "f"}) {
    CHECK(outcomes.only(name).kind == SubmitOutcome::Kind::returned);
    CHECK(outcomes.only(name).error == make_error_code(errc::stopped));
  }
  CHECK(window.stopped());
  CHECK_FALSE(window.can_write());
  offer(window, outcomes, "g");  // offered after stop
  CHECK(outcomes.only("g").kind == SubmitOutcome::Kind::returned);

  window.settle(1, sent("m1"));
  window.requeue(2);  // throttled after stop: nothing will write it again
  window.fail_in_flight(make_error_code(errc::stopped), true);  // the drain timed out

  CHECK(outcomes.only("a").kind == SubmitOutcome::Kind::sent);
  CHECK(outcomes.only("b").kind == SubmitOutcome::Kind::returned);
  CHECK(outcomes.only("c").kind == SubmitOutcome::Kind::failed);
  CHECK(outcomes.only("c").in_doubt);
  CHECK(window.queued() == 0);
  CHECK(window.in_flight() == 0);
  int total = 0;
  for (const auto& [name, list] : outcomes.by_name) total += static_cast<int>(list.size());
  CHECK(total == 7);
  CHECK(outcomes.observed[SubmitOutcome::Kind::returned] +
            outcomes.observed[SubmitOutcome::Kind::sent] +
            outcomes.observed[SubmitOutcome::Kind::failed] ==
        7);
}

TEST_CASE("submit window: a bind gone down returns the queue, refuses offers, and opens again") {
  Outcomes outcomes;
  SubmitWindow window({2, 100, true}, outcomes.observer());
  for (const char* name : {"a", "b", "c", "d"}) offer(window, outcomes, name);
  write_next(window, 1);  // a
  write_next(window, 2);  // b
  window.requeue(2);      // b throttled: waiting again, no outcome yet
  window.fail_in_flight(make_error_code(errc::connection_lost), true);
  window.refuse_offers(make_error_code(errc::not_bound));
  window.return_queued(make_error_code(errc::connection_lost));
  CHECK(outcomes.only("a").kind == SubmitOutcome::Kind::failed);
  CHECK(outcomes.only("a").in_doubt);
  for (const char* name : {"b", "c", "d"}) {
    CHECK(outcomes.only(name).kind == SubmitOutcome::Kind::returned);
    CHECK(outcomes.only(name).error == make_error_code(errc::connection_lost));
    CHECK_FALSE(outcomes.only(name).in_doubt);
  }
  CHECK(window.queued() == 0);
  offer(window, outcomes, "e");  // while down
  CHECK(outcomes.only("e").kind == SubmitOutcome::Kind::returned);
  CHECK(outcomes.only("e").error == make_error_code(errc::not_bound));
  CHECK(outcomes.observed[SubmitOutcome::Kind::returned] == 4);

  window.accept_offers();  // bound again
  offer(window, outcomes, "f");
  CHECK(outcomes.by_name["f"].empty());
  CHECK(write_next(window, 3) == "f");
  // Returning the queue does not stop the window.
  offer(window, outcomes, "g");
  window.return_queued(make_error_code(errc::connection_lost));
  CHECK(outcomes.only("g").kind == SubmitOutcome::Kind::returned);
  offer(window, outcomes, "h");
  CHECK(outcomes.by_name["h"].empty());
  CHECK(window.queued() == 1);
  CHECK_FALSE(window.stopped());
}

TEST_CASE("submit window: a handler offering again while the queue is returned ends once") {
  Outcomes outcomes;
  SubmitWindow window({1, 100, true});
  int again = 0;
  window.offer(message("a"), [&](SubmitOutcome o) {
    outcomes.by_name["a"].push_back(o);
    // The owner tries the same window again: queued, not returned twice.
    window.offer(message("a2"), outcomes.handler("a2"));
    ++again;
  });
  window.return_queued(make_error_code(errc::connection_lost));
  CHECK(again == 1);
  CHECK(outcomes.only("a").kind == SubmitOutcome::Kind::returned);
  CHECK(outcomes.by_name["a2"].empty());
  CHECK(window.queued() == 1);
}

// ---------------------------------------------------------------- priorities

namespace {

void offer_bulk(SubmitWindow& window, Outcomes& outcomes, const std::string& name) {
  window.offer(message(name), outcomes.handler(name), SubmitPriority::bulk);
}

}  // namespace

TEST_CASE("submit window: an urgent submit goes before every bulk one offered earlier") {
  Outcomes outcomes;
  SubmitWindow window({10, 100, true}, outcomes.observer());
  for (const char* name : {"b1", "b2", "b3"}) offer_bulk(window, outcomes, name);
  offer(window, outcomes, "u1");
  offer(window, outcomes, "u2");
  CHECK(window.queued() == 5);
  CHECK(window.queued_bulk() == 3);
  // Urgent ones in their order, then bulk ones in theirs.
  std::vector<std::string> order;
  for (std::uint32_t seq = 1; seq <= 5; ++seq) order.push_back(write_next(window, seq));
  CHECK(order == std::vector<std::string>{"u1", "u2", "b1", "b2", "b3"});
  CHECK(window.queued_bulk() == 0);
}

TEST_CASE("submit window: the default priority is urgent") {
  Outcomes outcomes;
  SubmitWindow window({10, 100, true}, outcomes.observer());
  offer_bulk(window, outcomes, "b");
  window.offer(message("plain"), outcomes.handler("plain"));
  CHECK(window.queued_bulk() == 1);
  CHECK(write_next(window, 1) == "plain");
}

TEST_CASE("submit window: bulk never takes the slots kept for urgent submits") {
  // window -> the most bulk submits in flight (window - max(1, window/5)).
  for (const auto& [size, bulk_max] : std::vector<std::pair<std::size_t, std::size_t>>{
           {2, 1}, {5, 4}, {9, 8}, {10, 8}, {20, 16}}) {
    CAPTURE(size);
    Outcomes outcomes;
    SubmitWindow window({size, 1000, true}, outcomes.observer());
    for (std::size_t i = 0; i < size * 2; ++i)
      offer_bulk(window, outcomes, "b" + std::to_string(i));
    std::uint32_t seq = 0;
    while (window.can_write()) write_next(window, ++seq);
    CHECK(window.in_flight() == bulk_max);
    CHECK(window.bulk_reserve() == size - bulk_max);
    // The kept slots are there for urgent submits, every one of them.
    for (std::size_t i = 0; i < size - bulk_max; ++i) {
      const std::string name = "u" + std::to_string(i);
      offer(window, outcomes, name);
      CHECK(write_next(window, ++seq) == name);
    }
    CHECK(window.in_flight() == size);
    CHECK_FALSE(window.can_write());
    // One answer frees a slot, but in the reserve: bulk still waits.
    window.settle(1, sent("m1"));
    CHECK_FALSE(window.can_write());
  }
}

TEST_CASE("submit window: in a window of one, bulk may take the one slot") {
  Outcomes outcomes;
  SubmitWindow window({1, 100, true}, outcomes.observer());
  CHECK(window.bulk_reserve() == 0);
  offer_bulk(window, outcomes, "b1");
  offer_bulk(window, outcomes, "b2");
  CHECK(write_next(window, 1) == "b1");
  CHECK_FALSE(window.can_write());
  offer(window, outcomes, "u");
  CHECK_FALSE(window.can_write());  // full: the urgent one waits for the slot
  window.settle(1, sent("m1"));
  CHECK(write_next(window, 2) == "u");
  window.settle(2, sent("m2"));
  CHECK(write_next(window, 3) == "b2");
}

TEST_CASE("submit window: a throttled submit goes back to the front of its own queue") {
  Outcomes outcomes;
  SubmitWindow window({10, 100, true}, outcomes.observer());
  offer_bulk(window, outcomes, "b1");
  offer_bulk(window, outcomes, "b2");
  CHECK(write_next(window, 1) == "b1");
  offer(window, outcomes, "u1");
  CHECK(write_next(window, 2) == "u1");
  offer(window, outcomes, "u2");
  offer(window, outcomes, "u3");
  // Both refused: each ahead of its own queue, the bulk one still after
  // every urgent one.
  window.requeue(1);
  window.requeue(2);
  CHECK(window.queued() == 5);
  CHECK(window.queued_bulk() == 2);
  std::vector<std::string> order;
  for (std::uint32_t seq = 3; seq <= 7; ++seq) order.push_back(write_next(window, seq));
  CHECK(order == std::vector<std::string>{"u1", "u2", "u3", "b1", "b2"});
  CHECK(outcomes.by_name.empty());  // no outcome yet for any
}

TEST_CASE("submit window: a full queue makes room for an urgent submit by returning bulk") {
  Outcomes outcomes;
  SubmitWindow window({10, 3, true}, outcomes.observer());
  offer_bulk(window, outcomes, "b1");
  offer_bulk(window, outcomes, "b2");
  offer(window, outcomes, "u1");
  offer_bulk(window, outcomes, "b3");  // full: returned
  CHECK(outcomes.only("b3").kind == SubmitOutcome::Kind::returned);
  CHECK(outcomes.only("b3").error == make_error_code(errc::queue_full));
  offer(window, outcomes, "u2");  // full: the newest bulk one, b2, gives way
  CHECK(outcomes.only("b2").kind == SubmitOutcome::Kind::returned);
  CHECK(outcomes.only("b2").error == make_error_code(errc::queue_full));
  CHECK(window.queued() == 3);
  CHECK(window.queued_bulk() == 1);
  offer(window, outcomes, "u3");  // b1 gives way
  CHECK(outcomes.only("b1").kind == SubmitOutcome::Kind::returned);
  offer(window, outcomes, "u4");  // only urgent ones wait: returned itself
  CHECK(outcomes.only("u4").error == make_error_code(errc::queue_full));
  CHECK(window.queued() == 3);
  std::vector<std::string> order;
  for (std::uint32_t seq = 1; seq <= 3; ++seq) order.push_back(write_next(window, seq));
  CHECK(order == std::vector<std::string>{"u1", "u2", "u3"});
  CHECK(outcomes.observed[SubmitOutcome::Kind::returned] == 4);
}

TEST_CASE("submit window: stop and return_queued end the submits of both queues, once each") {
  Outcomes outcomes;
  SubmitWindow window({10, 100, true}, outcomes.observer());
  offer_bulk(window, outcomes, "b1");
  offer(window, outcomes, "u1");
  CHECK(write_next(window, 1) == "u1");
  CHECK(write_next(window, 2) == "b1");
  offer_bulk(window, outcomes, "b2");
  offer(window, outcomes, "u2");
  window.requeue(2);  // b1 waits again, at the front of the bulk queue
  window.return_queued(make_error_code(errc::connection_lost));
  CHECK(window.queued() == 0);
  CHECK(window.queued_bulk() == 0);
  for (const char* name : {"b1", "b2", "u2"}) {
    CAPTURE(name);
    CHECK(outcomes.only(name).kind == SubmitOutcome::Kind::returned);
    CHECK(outcomes.only(name).error == make_error_code(errc::connection_lost));
  }
  // Offers queue again after return_queued; stop returns them all.
  offer_bulk(window, outcomes, "b3");
  offer(window, outcomes, "u3");
  window.stop();
  CHECK(outcomes.only("b3").error == make_error_code(errc::stopped));
  CHECK(outcomes.only("u3").error == make_error_code(errc::stopped));
  offer_bulk(window, outcomes, "b4");
  CHECK(outcomes.only("b4").error == make_error_code(errc::stopped));
  window.settle(1, sent("m1"));
  CHECK(outcomes.only("u1").kind == SubmitOutcome::Kind::sent);
  CHECK(window.in_flight() == 0);
  // Every submit offered ended exactly once.
  int total = 0;
  for (const auto& [name, list] : outcomes.by_name) total += static_cast<int>(list.size());
  CHECK(total == 7);
  CHECK(outcomes.by_name.size() == 7);
}

TEST_CASE("submit window: while offers are refused, a requeued bulk submit is returned") {
  Outcomes outcomes;
  SubmitWindow window({10, 100, true}, outcomes.observer());
  offer_bulk(window, outcomes, "b1");
  CHECK(write_next(window, 1) == "b1");
  window.refuse_offers(make_error_code(errc::not_bound));
  offer_bulk(window, outcomes, "b2");
  window.requeue(1);
  CHECK(outcomes.only("b1").error == make_error_code(errc::not_bound));
  CHECK(outcomes.only("b2").error == make_error_code(errc::not_bound));
  CHECK(window.queued() == 0);
}
