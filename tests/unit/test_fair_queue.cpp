#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/gateway/fair_queue.hpp"

using giftgate::FairQueue;

TEST_CASE("fair queue: senders take turns, each one's items in order") {
  FairQueue<std::string> q;
  for (int i = 0; i < 5; ++i) q.push("flood", "f" + std::to_string(i));
  q.push("a", "a0");
  q.push("b", "b0");
  q.push("a", "a1");
  CHECK(q.size() == 8);
  std::vector<std::string> out;
  while (!q.empty()) out.push_back(q.pop());
  // The flood's second item waits for a's and b's first.
  CHECK(out == std::vector<std::string>{"f0", "a0", "b0", "f1", "a1", "f2", "f3", "f4"});
}

TEST_CASE("fair queue: urgent items go first, in their own turns") {
  FairQueue<int> q;
  q.push("x", 1);
  q.push("y", 2, true);
  q.push("x", 3, true);
  q.push("y", 4, true);
  std::vector<int> out;
  while (!q.empty()) out.push_back(q.pop());
  CHECK(out == std::vector<int>{2, 3, 4, 1});
}

TEST_CASE("fair queue: drain hands over every item and leaves it empty") {
  FairQueue<int> q;
  q.push("x", 1);
  q.push("y", 2, true);
  q.push("x", 3);
  int sum = 0;
  q.drain([&](int& v) { sum += v; });
  CHECK(sum == 6);
  CHECK(q.empty());
  q.push("z", 7);
  CHECK(q.pop() == 7);
}

TEST_CASE("fair queue: drain_if takes only the chosen items, the rest keep their turns") {
  FairQueue<int> q;
  q.push("x", 1);
  q.push("y", 2);
  q.push("x", 3);
  q.push("z", 4);
  q.push("y", 6, true);
  std::vector<int> taken;
  q.drain_if([](const int& v) { return v % 2 == 0 && v != 6; }, [&](int& v) { taken.push_back(v); });
  CHECK(taken == std::vector<int>{2, 4});
  CHECK(q.size() == 3);
  std::vector<int> out;
  while (!q.empty()) out.push_back(q.pop());
  CHECK(out == std::vector<int>{6, 1, 3});
}
