// Router's contract: which connection an outbound message goes through.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "daemon/gateway/router.hpp"

using namespace giftgate;

namespace {

using Conns = std::vector<Router::Connection>;

Conns two_smscs(std::size_t room) {
  return {{"a", 1, true, room}, {"a", 2, true, room}, {"b", 1, true, room}, {"b", 2, true, room}};
}

}  // namespace

TEST_CASE("a route is read as the SMSC, and the bind only for a USSD screen") {
  auto w = Router::wanted("a#2", true, true);
  CHECK(w.smsc == "a");
  REQUIRE(w.bind);
  CHECK(*w.bind == 2);
  CHECK(w.required);
  w = Router::wanted("a#2", false, true);  // an SMS keeps only the SMSC
  CHECK(w.smsc == "a");
  CHECK_FALSE(w.bind);
  CHECK_FALSE(w.required);
  w = Router::wanted("a", false, false);  // not preferring the origin: anywhere
  CHECK(w.smsc.empty());
  w = Router::wanted("", false, true);
  CHECK(w.smsc.empty());
  CHECK(Router::route_of("a", 3, true) == "a#3");
  CHECK(Router::route_of("a", 3, false) == "a");
}

TEST_CASE("idle connections share messages evenly, in turn") {
  Router router;
  std::map<std::size_t, int> taken;
  for (int i = 0; i < 400; ++i) {
    auto conns = two_smscs(20);  // room restored: an idle gateway
    const auto c = router.pick(conns, {}, 1);
    REQUIRE(c);
    ++taken[*c];
  }
  REQUIRE(taken.size() == 4);
  for (const auto& [c, n] : taken) CHECK(n == 100);
}

TEST_CASE("the connection with the most room is picked, and its room goes down") {
  Router router;
  Conns conns = {{"a", 1, true, 3}, {"a", 2, true, 9}, {"b", 1, true, 5}};
  auto c = router.pick(conns, {}, 2);
  REQUIRE(c);
  CHECK(*c == 1);
  CHECK(conns[1].room == 7);
  // Filling in: every part placed while room lasts, never on a full one.
  int placed = 0;
  while (const auto next = router.pick(conns, {}, 1)) {
    ++placed;
    REQUIRE(placed <= 100);
  }
  CHECK(placed == 3 + 7 + 5);
  for (const auto& k : conns) CHECK(k.room == 0);
}

TEST_CASE("a connection that is down gets nothing") {
  Router router;
  auto conns = two_smscs(10);
  conns[2].bound = conns[3].bound = false;  // SMSC b gone
  for (int i = 0; i < 50; ++i) {
    auto copy = conns;
    const auto c = router.pick(copy, Router::wanted("b", false, true), 1);
    REQUIRE(c);
    CHECK(copy[*c].smsc == "a");  // the reply's origin is down: elsewhere
  }
  for (auto& k : conns) k.bound = false;
  CHECK_FALSE(router.pick(conns, {}, 1));
}

TEST_CASE("a reply prefers its MO's SMSC while it has room") {
  Router router;
  Conns conns = {{"a", 1, true, 10}, {"b", 1, true, 2}};
  const auto wanted = Router::wanted("b", false, true);
  CHECK(router.pick(conns, wanted, 1) == 1u);
  CHECK(router.pick(conns, wanted, 1) == 1u);
  CHECK(router.pick(conns, wanted, 1) == 0u);  // b is full: the other one
  // Not preferring the origin: the most room.
  Conns again = {{"a", 1, true, 10}, {"b", 1, true, 2}};
  CHECK(router.pick(again, Router::wanted("b", false, false), 1) == 0u);
}

TEST_CASE("a USSD screen goes only through its SMSC, and its bind when named") {
  Router router;
  auto conns = two_smscs(10);
  for (int i = 0; i < 20; ++i) {
    const auto c = router.pick(conns, Router::wanted("b#2", true, true), 1);
    REQUIRE(c);
    CHECK(*c == 3u);  // even past its room
  }
  CHECK(conns[3].room == 0);
  const auto any_b = router.pick(conns, Router::wanted("b", true, true), 1);
  REQUIRE(any_b);
  CHECK(conns[*any_b].smsc == "b");
  conns[3].bound = false;
  CHECK_FALSE(router.pick(conns, Router::wanted("b#2", true, true), 1));
  conns[2].bound = false;
  CHECK_FALSE(router.pick(conns, Router::wanted("b", true, true), 1));
}
