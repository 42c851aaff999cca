// Urgent submits (answers) before bulk ones (pushes), against the SMSC
// simulator: the order the SMSC receives them in, and the window slots bulk
// leaves free (SubmitWindow's contract, through a real session).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "tests/integration/session_fixture.hpp"
#include "tests/support/hex.hpp"

using namespace giftgate;
using namespace giftgate::test;
using smpp::SubmitPriority;

namespace {

// What the simulator received, in its order: each submit's text, and how
// many submits were outstanding on the bind with it.
struct Received {
  std::string text;
  int outstanding = 0;
};

std::vector<Received> received(const SimProcess& sim) {
  std::vector<Received> out;
  for (const auto& e : sim.history()) {
    if (e.name != "submit") continue;
    const auto octets = from_hex(e.fields.at("sm_hex"));
    out.push_back({std::string(octets.begin(), octets.end()),
                   std::stoi(e.fields.at("outstanding"))});
  }
  return out;
}

std::ptrdiff_t position(const std::vector<Received>& order, const std::string& text) {
  const auto it = std::ranges::find(order, text, &Received::text);
  return it == order.end() ? -1 : it - order.begin();
}

}  // namespace

TEST_CASE("session priority: an urgent submit offered behind a paced bulk backlog goes first") {
  SessionHarness h;
  auto settings = h.settings();
  settings.rate = 5;  // one every 200 ms: the backlog waits for tokens
  settings.burst = 1;
  auto s = h.bound_session(settings);
  constexpr std::size_t kBulk = 8;
  for (std::size_t i = 0; i < kBulk; ++i)
    h.submit(s, text_message(fmt::format("bulk {}", i)), SubmitPriority::bulk);
  // The first took the one token; the others wait, counted as bulk.
  REQUIRE(eventually([&] { return h.settled() >= 1; }, 5s));
  const auto stats = s->stats();
  const std::size_t waiting = stats.queued_bulk;
  CHECK(stats.queued == stats.queued_bulk);
  REQUIRE(waiting >= kBulk - 3);
  h.submit(s, text_message("urgent"));
  REQUIRE(eventually([&] { return h.settled() == kBulk + 1; }, 15s));
  for (std::size_t i = 0; i <= kBulk; ++i)
    CHECK(h.outcome(i)->kind == smpp::SubmitOutcome::Kind::sent);

  const auto order = received(h.sim);
  REQUIRE(order.size() == kBulk + 1);
  // Ahead of every bulk submit still waiting when it was offered (one more
  // may have taken a token while the offer was handed to the strand); in
  // arrival order it would have been last.
  const auto urgent = position(order, "urgent");
  CHECK(urgent >= 1);
  CHECK(static_cast<std::size_t>(urgent) <= kBulk - waiting + 1);
  // The bulk submits keep their own order.
  std::vector<std::string> bulk;
  for (const auto& r : order)
    if (r.text != "urgent") bulk.push_back(r.text);
  for (std::size_t i = 0; i < kBulk; ++i) CHECK(bulk[i] == fmt::format("bulk {}", i));
  CHECK(s->stats().queued_bulk == 0);
}

TEST_CASE("session priority: bulk never takes the window's last slot, an answer finds it free") {
  // Before the harness: its sessions, stopped last, may still end submits.
  std::atomic<std::size_t> bulk_sent{0};
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 5;  // a fifth, one slot, kept for urgent submits
  auto s = h.bound_session(settings);
  // Answers come a second late: the window stays as full as bulk may make it.
  h.sim.command("set resp_delay_ms=1000");
  constexpr std::size_t kBulk = 12;
  std::vector<std::pair<smpp::SubmitSm, smpp::Session::SubmitHandler>> pushes;
  for (std::size_t i = 0; i < kBulk; ++i)
    pushes.emplace_back(text_message(fmt::format("bulk {}", i)), [&](smpp::SubmitOutcome o) {
      if (o.kind == smpp::SubmitOutcome::Kind::sent) ++bulk_sent;
    });
  s->submit_all(std::move(pushes), SubmitPriority::bulk);
  REQUIRE(eventually([&] { return s->stats().in_flight == 4; }, 5s));
  CHECK(s->stats().queued_bulk == kBulk - 4);

  // Written at once into the kept slot, not after a bulk answer.
  h.submit(s, text_message("urgent"));
  REQUIRE(eventually([&] { return h.settled() == 1; }, 5s));
  CHECK(h.outcome(0)->kind == smpp::SubmitOutcome::Kind::sent);
  REQUIRE(eventually([&] { return bulk_sent.load() == kBulk; }, 15s));

  const auto order = received(h.sim);
  REQUIRE(order.size() == kBulk + 1);
  CHECK(position(order, "urgent") == 4);
  int bulk_peak = 0;
  for (const auto& r : order)
    if (r.text != "urgent") bulk_peak = std::max(bulk_peak, r.outstanding);
  CHECK(bulk_peak == 4);
  CHECK(order[4].outstanding == 5);
  CHECK(s->stats().max_window_used == 5);
}
