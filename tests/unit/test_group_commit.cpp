// GroupCommit's contract, with an in-memory store, a hand-moved clock and a
// scheduler the test runs by hand: no SQLite, no sockets, no sleeps.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "daemon/gateway/group_commit.hpp"
#include "protocol/pdu.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

// A transaction in memory: writes go to `pending` while one is open and
// reach `durable` only when it commits.
struct FakeStore final : BatchStore {
  std::vector<std::string> durable, pending;
  bool open = false;
  bool busy = false;         // the next begins fail
  int fail_commits = 0;      // the next commits fail
  bool lost = false;         // the database rolled the open batch back itself
  std::int64_t writes = 0;

  void write(const std::string& effect) {
    ++writes;
    (open ? pending : durable).push_back(effect);
  }
  bool on_disk(const std::string& effect) const {
    return std::ranges::count(durable, effect) > 0;
  }
  db::Status begin() override {
    if (busy) return {5, "database is locked"};
    open = true;
    return {};
  }
  db::Status commit() override {
    open = false;
    if (fail_commits > 0) {
      --fail_commits;
      pending.clear();
      return {13, "database or disk is full"};
    }
    durable.insert(durable.end(), pending.begin(), pending.end());
    pending.clear();
    return {};
  }
  void abandon() override { open = false; }
  bool still_open() const override { return open && !lost; }
  std::int64_t changes() const override { return writes; }
  void lose_batch() {
    lost = true;
    pending.clear();
  }
};

// What the SMSC was told, and whether the message's effect was on disk then.
struct Answer {
  std::string effect;
  std::uint32_t status;
  bool durable_then;
};

struct Ack {
  std::string effect;
  FakeStore* store;
  std::vector<Answer>* answers;
  void respond(std::uint32_t status) {
    answers->push_back({effect, status, store->on_disk(effect)});
  }
};

struct Harness {
  FakeStore store;
  std::vector<Answer> answers;
  std::chrono::steady_clock::time_point clock{std::chrono::seconds(1000)};
  struct Due {
    std::chrono::steady_clock::time_point at;
    std::function<void()> run;
  };
  std::vector<Due> scheduled;
  std::vector<bool> after;  // after_commit's argument, each time
  std::vector<std::size_t> refused;
  GroupCommit<Ack> batch{store, [this] { return clock; },
                         [this](auto at, std::function<void()> run) {
                           scheduled.push_back({at, std::move(run)});
                         },
                         hooks(), 5ms};

  GroupCommit<Ack>::Hooks hooks() {
    GroupCommit<Ack>::Hooks h;
    h.after_commit = [this](bool committed) { after.push_back(committed); };
    h.failed = [this](std::size_t n, const std::string&) { refused.push_back(n); };
    return h;
  }
  // An MO handled in the batch: its effect written, its answer held.
  void mo(const std::string& effect, std::uint32_t status = smpp::status::ok) {
    batch.join();
    store.write(effect);
    batch.acknowledge(Ack{effect, &store, &answers}, status);
  }
  // Runs what is scheduled at or before now.
  void run_due() {
    auto due = std::move(scheduled);
    scheduled.clear();
    for (auto& d : due) {
      if (d.at <= clock) d.run();
      else scheduled.push_back(std::move(d));
    }
  }
};

}  // namespace

TEST_CASE("group commit: no acknowledgement before the batch is on disk") {
  Harness h;
  h.mo("mo 1");
  h.mo("mo 2");
  CHECK(h.batch.state() == GroupCommit<Ack>::State::open);
  CHECK(h.answers.empty());
  CHECK(h.store.durable.empty());
  REQUIRE(h.scheduled.size() == 1);  // one commit for the burst
  h.run_due();
  REQUIRE(h.answers.size() == 2);
  for (const auto& a : h.answers) {
    CHECK(a.status == smpp::status::ok);
    CHECK(a.durable_then);
  }
  CHECK(h.batch.commits() == 1);
  CHECK(h.batch.state() == GroupCommit<Ack>::State::idle);
  CHECK(h.after == std::vector<bool>{true});
}

TEST_CASE("group commit: a failed commit turns every OK into a temporary error") {
  Harness h;
  h.mo("mo 1");
  h.mo("mo 2", smpp::status::temporary_app_error);  // an answer that was an error already
  h.store.fail_commits = 1;
  h.run_due();
  REQUIRE(h.answers.size() == 2);
  CHECK(h.answers[0].status == smpp::status::temporary_app_error);
  CHECK_FALSE(h.answers[0].durable_then);
  CHECK(h.answers[1].status == smpp::status::temporary_app_error);
  CHECK(h.refused == std::vector<std::size_t>{1});
  CHECK(h.batch.refused() == 1);
  CHECK(h.batch.commits() == 0);
  CHECK(h.after == std::vector<bool>{false});
  CHECK(h.store.durable.empty());
}

TEST_CASE("group commit: a batch SQLite rolled back by itself acknowledges nothing of it") {
  Harness h;
  h.mo("mo 1");
  h.store.lose_batch();
  // The next piece of work finds the batch gone: its answer is refused at
  // once, and the new work goes into a new batch.
  h.mo("mo 2");
  REQUIRE(h.answers.size() == 1);
  CHECK(h.answers[0].effect == "mo 1");
  CHECK(h.answers[0].status == smpp::status::temporary_app_error);
  h.store.lost = false;
  h.run_due();
  REQUIRE(h.answers.size() == 2);
  CHECK(h.answers[1].effect == "mo 2");
  CHECK(h.answers[1].status == smpp::status::ok);
  CHECK(h.answers[1].durable_then);
  CHECK_FALSE(h.store.on_disk("mo 1"));
}

TEST_CASE("group commit: a batch lost just before its commit acknowledges nothing") {
  Harness h;
  h.mo("mo 1");
  h.store.lose_batch();
  h.run_due();
  REQUIRE(h.answers.size() == 1);
  CHECK(h.answers[0].status == smpp::status::temporary_app_error);
  CHECK(h.after == std::vector<bool>{false});
}

TEST_CASE("group commit: a submit answer is recorded exactly once across failed batches") {
  Harness h;
  int runs = 0;
  const auto record_answer = [&] {
    ++runs;
    h.store.write("submit 7 answered");
  };
  h.batch.join();
  h.batch.record(record_answer);
  h.store.fail_commits = 2;
  h.run_due();  // fails: the record waits for the next batch
  CHECK_FALSE(h.store.on_disk("submit 7 answered"));
  h.clock += 10ms;
  h.mo("mo 1");  // opens the next batch: the record is written again in it
  h.run_due();   // fails again
  h.clock += 10ms;
  h.mo("mo 2");
  h.run_due();  // commits
  CHECK(std::ranges::count(h.store.durable, "submit 7 answered") == 1);
  CHECK(runs == 3);
  // Later batches do not write it again.
  h.clock += 10ms;
  h.mo("mo 3");
  h.run_due();
  CHECK(std::ranges::count(h.store.durable, "submit 7 answered") == 1);
  CHECK(runs == 3);
}

TEST_CASE("group commit: while the database is busy, work runs unbatched and is answered at the commit point") {
  Harness h;
  h.store.busy = true;
  h.mo("mo 1");  // written on its own (autocommit)
  CHECK(h.batch.state() == GroupCommit<Ack>::State::unbatched);
  CHECK(h.answers.empty());
  h.run_due();
  REQUIRE(h.answers.size() == 1);
  CHECK(h.answers[0].status == smpp::status::ok);
  CHECK(h.answers[0].durable_then);
  // The next piece of work tries a batch again.
  h.store.busy = false;
  h.clock += 10ms;
  h.mo("mo 2");
  CHECK(h.batch.state() == GroupCommit<Ack>::State::open);
}

TEST_CASE("group commit: commits are at least the gap apart, and a lone MO goes at once") {
  Harness h;
  h.mo("mo 1");
  REQUIRE(h.scheduled.size() == 1);
  CHECK(h.scheduled[0].at == h.clock);  // idle: at once
  h.run_due();
  h.clock += 1ms;
  h.mo("mo 2");
  REQUIRE(h.scheduled.size() == 1);
  CHECK(h.scheduled[0].at == h.clock + 4ms);  // 5 ms after the last commit
  h.run_due();
  CHECK(h.answers.size() == 1);  // not yet
  h.clock += 4ms;
  h.run_due();
  CHECK(h.answers.size() == 2);
}

TEST_CASE("group commit: a commit point with nothing scheduled does nothing") {
  Harness h;
  h.batch.commit();
  CHECK(h.after.empty());
  h.mo("mo 1");
  h.batch.commit();  // the stop's own commit
  CHECK(h.answers.size() == 1);
  h.run_due();  // the scheduled one finds nothing due
  CHECK(h.after.size() == 1);
}

TEST_CASE("group commit: an empty batch is not counted as a commit") {
  Harness h;
  h.batch.join();
  h.run_due();
  CHECK(h.batch.commits() == 0);
  h.clock += 10ms;
  h.mo("mo 1");
  h.run_due();
  CHECK(h.batch.commits() == 1);
}

TEST_CASE("group commit: a waiter hears of the commit after its work is on disk, or of its loss") {
  Harness h;
  std::vector<std::pair<bool, bool>> told;  // committed, on disk then
  auto request = [&](const std::string& effect) {
    h.batch.join();
    h.store.write(effect);
    h.batch.after_commit([&, effect](bool committed) {
      told.emplace_back(committed, h.store.on_disk(effect));
    });
  };
  request("api 1");
  CHECK(told.empty());
  h.run_due();
  REQUIRE(told.size() == 1);
  CHECK(told[0] == std::pair{true, true});

  // A failed commit: the waiter hears false, and its work is not on disk.
  h.clock += 10ms;
  request("api 2");
  h.store.fail_commits = 1;
  h.run_due();
  REQUIRE(told.size() == 2);
  CHECK(told[1] == std::pair{false, false});
  CHECK(h.refused == std::vector<std::size_t>{1});

  // Lost by SQLite before the next work joined: told false at once.
  h.clock += 10ms;
  request("api 3");
  h.store.lose_batch();
  request("api 4");
  REQUIRE(told.size() == 3);
  CHECK(told[2] == std::pair{false, false});
  h.store.lost = false;
  h.run_due();
  REQUIRE(told.size() == 4);
  CHECK(told[3] == std::pair{true, true});
}
