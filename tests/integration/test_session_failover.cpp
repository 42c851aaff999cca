// What a session does so that its owner can spread traffic over several
// binds and move it away from one that fails: queued submits handed back
// when the bind is down, a silent SMSC noticed within the response timeout,
// the rate changed while running, and the state for a status page. Against
// the SMSC simulator on 127.0.0.1; every wait is bounded.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "protocol/error.hpp"
#include "protocol/net/link.hpp"
#include "tests/integration/session_fixture.hpp"

using namespace giftgate;
using namespace giftgate::test;
using smpp::SessionState;
using smpp::SubmitOutcome;

namespace {

using SteadyClock = std::chrono::steady_clock;

std::size_t count_kind(SessionHarness& h, std::size_t first, std::size_t n, SubmitOutcome::Kind kind) {
  std::size_t k = 0;
  for (std::size_t i = first; i < first + n; ++i) {
    const auto o = h.outcome(i);
    if (o && o->kind == kind) ++k;
  }
  return k;
}

// One submit written and four waiting behind it (window 1, the SMSC slow
// to answer), then the SMSC drops the connection.
void fill_then_drop(SessionHarness& h, const std::shared_ptr<smpp::Session>& s) {
  h.sim.command("set resp_delay_ms=2500");
  for (int i = 0; i < 5; ++i) h.submit(s, text_message("queued"));
  REQUIRE(h.sim.wait_for("submit", 5s));
  REQUIRE(eventually([&] {
    const auto st = s->stats();
    return st.in_flight == 1 && st.queued == 4;
  }, 5s));
  h.sim.command("set resp_delay_ms=0");
  h.sim.command("drop");
}

}  // namespace

TEST_CASE("failover: with return_queued_when_down a drop returns the queue at once") {
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 1;
  settings.return_queued_when_down = true;
  settings.reconnect_min = 3s;  // "at once" means before the next bind
  settings.reconnect_max = 3s;
  auto s = h.bound_session(settings);
  fill_then_drop(h, s);
  REQUIRE(eventually([&] { return h.settled() == 5; }, 2s));
  CHECK(s->state() != SessionState::bound);
  const auto written = h.outcome(0);
  CHECK(written->kind == SubmitOutcome::Kind::failed);
  CHECK(written->in_doubt);
  for (std::size_t i = 1; i < 5; ++i) {
    const auto o = h.outcome(i);
    CHECK(o->kind == SubmitOutcome::Kind::returned);
    CHECK(o->error == make_error_code(smpp::errc::connection_lost));
    CHECK_FALSE(o->in_doubt);
  }
  const auto st = s->stats();
  CHECK(st.returned == 4);
  CHECK(st.queued == 0);
  CHECK(st.in_flight == 0);
  for (int c : h.call_counts()) CHECK(c == 1);
}

TEST_CASE("failover: without return_queued_when_down the queue waits for the reconnect") {
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 1;
  auto s = h.bound_session(settings);
  fill_then_drop(h, s);
  REQUIRE(eventually([&] { return h.settled() == 5; }, 10s));
  CHECK(s->stats().binds >= 2);
  CHECK(h.outcome(0)->kind == SubmitOutcome::Kind::failed);
  CHECK(h.outcome(0)->in_doubt);
  CHECK(count_kind(h, 1, 4, SubmitOutcome::Kind::sent) == 4);
  CHECK(s->stats().returned == 0);
}

TEST_CASE("failover: offers while the bind is down are returned, and the status says why") {
  SessionHarness h;
  auto settings = h.settings();
  settings.return_queued_when_down = true;
  const auto before_bind = std::chrono::system_clock::now();
  auto s = h.bound_session(settings);
  {
    const auto st = s->stats();
    CHECK(st.bound_since >= before_bind - 1s);  // system clock: a little slack
    CHECK(st.bound_since <= std::chrono::system_clock::now() + 1s);
    CHECK(st.last_error.empty());
  }
  // The SMSC refuses binds from now on, and drops the one it has.
  h.sim.command("set bind=reject bind_status=13");
  h.sim.command("drop");
  REQUIRE(eventually([&] { return s->stats().bind_failures >= 1; }, 5s));
  {
    const auto st = s->stats();
    CHECK(st.bound_since == std::chrono::system_clock::time_point{});
    // The latest close is a refused bind, or the connection after it.
    CHECK(st.last_error.find("bind refused: 0x0000000D") != std::string::npos);
  }
  const auto i = h.submit(s, text_message("while down"));
  REQUIRE(eventually([&] { return h.settled() == 1; }, 2s));
  CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::returned);
  CHECK(h.outcome(i)->error == make_error_code(smpp::errc::not_bound));
  CHECK(h.sim.count("submit") == 0);

  // Bound again: offers are taken as usual.
  h.sim.command("set bind=accept");
  REQUIRE(h.bound(s));
  const auto j = h.submit(s, text_message("bound again"));
  REQUIRE(eventually([&] { return h.settled() == 2; }, 5s));
  CHECK(h.outcome(j)->kind == SubmitOutcome::Kind::sent);
  CHECK(s->stats().bound_since != std::chrono::system_clock::time_point{});
}

TEST_CASE("failover: by default an offer while the bind is down waits for the bind") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  h.sim.command("set bind=reject");
  h.sim.command("drop");
  REQUIRE(eventually([&] { return s->stats().bind_failures >= 1; }, 5s));
  const auto i = h.submit(s, text_message("waits"));
  REQUIRE(eventually([&] { return s->stats().queued == 1; }, 2s));
  CHECK_FALSE(h.outcome(i));
  h.sim.command("set bind=accept");
  REQUIRE(eventually([&] { return h.settled() == 1; }, 10s));
  CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
}

TEST_CASE("failover: an SMSC that answers nothing is dropped within the response timeout") {
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 2;
  settings.response_timeout = 300ms;
  settings.enquire_link_interval = 20s;  // enquire_link alone would take 20 s
  settings.reconnect_min = 3s;
  settings.reconnect_max = 3s;
  settings.return_queued_when_down = true;
  auto s = h.bound_session(settings);
  h.sim.command("set silent=on");
  const auto start = SteadyClock::now();
  for (int i = 0; i < 5; ++i) h.submit(s, text_message("into the void"));
  REQUIRE(eventually([&] { return s->stats().peer_silent >= 1; }, 5s));
  const auto noticed = SteadyClock::now() - start;
  MESSAGE("noticed after " << std::chrono::duration_cast<std::chrono::milliseconds>(noticed).count()
                           << " ms");
  CHECK(noticed < 3s);  // about 300 ms; generous for a shared machine
  REQUIRE(eventually([&] { return h.settled() == 5; }, 2s));
  // Two were written: both in doubt; three waited: returned.
  std::size_t in_doubt = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    const auto o = h.outcome(i);
    if (o->kind == SubmitOutcome::Kind::failed && o->in_doubt) ++in_doubt;
  }
  CHECK(in_doubt == 2);
  CHECK(count_kind(h, 0, 5, SubmitOutcome::Kind::returned) == 3);
  const auto st = s->stats();
  CHECK(st.last_error == "peer stopped answering");
  CHECK(st.connects == 1);  // not yet reconnected: the closing was the silence
  CHECK(h.log_sink->contains("smpp_peer_silent"));
}

TEST_CASE("failover: one lost submit answer, with enquire_link answered, keeps the bind") {
  SessionHarness h;
  auto settings = h.settings();
  settings.response_timeout = 600ms;
  settings.enquire_link_interval = 100ms;
  auto s = h.bound_session(settings);
  h.sim.command("set drop_resp_next=1");
  const auto i = h.submit(s, text_message("answer lost"));
  REQUIRE(eventually([&] { return h.settled() == 1; }, 5s));
  const auto o = h.outcome(i);
  CHECK(o->kind == SubmitOutcome::Kind::failed);
  CHECK(o->in_doubt);
  CHECK(o->error == make_error_code(smpp::errc::response_timeout));
  const auto st = s->stats();
  CHECK(st.enquire_links_sent >= 2);  // the SMSC kept talking meanwhile
  CHECK(st.response_timeouts == 1);
  CHECK(st.peer_silent == 0);
  CHECK(st.connects == 1);
  CHECK(s->state() == SessionState::bound);
  // And the bind goes on sending.
  const auto j = h.submit(s, text_message("next"));
  REQUIRE(eventually([&] { return h.settled() == 2; }, 5s));
  CHECK(h.outcome(j)->kind == SubmitOutcome::Kind::sent);
  CHECK(s->stats().connects == 1);
}

TEST_CASE("failover: set_rate changes the pace of a running session") {
  SessionHarness h;
  auto settings = h.settings();
  settings.rate = 0.2;  // one every five seconds
  settings.burst = 1;
  auto s = h.bound_session(settings);
  for (int i = 0; i < 20; ++i) h.submit(s, text_message("paced"));
  REQUIRE(eventually([&] { return h.settled() >= 1; }, 5s));
  // The next is held for about five seconds.
  REQUIRE(eventually([&] { return s->stats().queued == 19; }, 2s));
  CHECK(h.settled() == 1);
  s->set_rate(200, 1);
  const auto start = SteadyClock::now();
  // At 0.2 per second the other 19 would take 95 s.
  REQUIRE(eventually([&] { return h.settled() == 20; }, 4s));
  MESSAGE("19 sent in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               SteadyClock::now() - start)
                               .count()
                        << " ms");
  CHECK(s->stats().rate == 200);

  // Slower again: at 2 per second (burst 1) four take 1.5 s at least; at
  // 200 they would take milliseconds. A lower bound only: a busy machine
  // can only make it longer.
  s->set_rate(2, 1);
  const auto slow = SteadyClock::now();
  for (int i = 0; i < 20; ++i) h.submit(s, text_message("slow again"));
  REQUIRE(eventually([&] { return h.settled() >= 24; }, 10s));
  CHECK(SteadyClock::now() - slow >= 1400ms);
  CHECK(s->stats().rate == 2);
}

TEST_CASE("failover: Link::set_rate reaches the transmitter") {
  SessionHarness h;
  auto settings = h.settings();
  settings.rate = 10;
  smpp::Link link(h.io.get_executor(), settings, smpp::Link::Mode::transmitter_and_receiver,
                  h.logger);
  link.set_rate(40, 2);
  REQUIRE(eventually([&] { return link.transmitter()->stats().rate == 40; }, 2s));
  CHECK(link.receiver()->stats().rate == 10);
  CHECK(SessionHarness::stop(link, 0ms, 5s));
}
