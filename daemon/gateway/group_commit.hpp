// Group commit: the gateway's work (MOs handled, receipts applied, submit
// answers recorded, outbox rows taken) gathers in one open transaction, the
// batch, which is committed once for all of it; one fsync serves a burst.
//
// The contract, which the gateway and the SMSC rely on:
// - An acknowledgement (deliver_sm_resp, data_sm_resp) handed to the batch
//   is written only after the batch's commit returned: nothing is accepted
//   before its effects are on disk. If the commit fails, or SQLite rolled
//   the batch back by itself (a full disk, an I/O error), every "OK" held is
//   turned into a temporary error, so the SMSC delivers those MOs again; an
//   answer that was already an error goes out as it was.
// - A record (what a submit_sm_resp said) is written in the batch and kept
//   until the batch commits. If the batch fails, it is written again in the
//   next one: each is on disk exactly once, however many batches fail.
// - While the database stays busy past its timeout no batch can open
//   (state `unbatched`): work then runs in transactions of its own, and
//   acknowledgements still wait for the next commit point.
// - A waiter (after_commit: an API request's answer) is called once with
//   true after the commit that holds its work returned, or with false when
//   that batch is lost; the work is then undone and must be refused.
// - A commit happens at most every `gap`: under load a batch gathers a few
//   milliseconds of work; idle, a lone MO is committed at once.
//
// The transaction (BatchStore), the clock and the scheduler are injected,
// so the contract is tested without SQLite, sockets or sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/storage/sqlite.hpp"
#include "protocol/pdu.hpp"

namespace giftgate {

// The transaction a batch is, as GroupCommit sees it.
class BatchStore {
 public:
  virtual ~BatchStore() = default;
  // Opens the batch's transaction.
  virtual db::Status begin() = 0;
  // Commits it; afterwards no transaction is open, whatever the result.
  virtual db::Status commit() = 0;
  // Drops the transaction object after the database ended it by itself.
  virtual void abandon() = 0;
  // False once the database rolled the open transaction back by itself.
  virtual bool still_open() const = 0;
  // Rows changed so far on this connection: tells an empty batch apart.
  virtual std::int64_t changes() const = 0;
};

// The batch as a transaction on the daemon's SQLite connection.
class SqliteBatchStore final : public BatchStore {
 public:
  explicit SqliteBatchStore(db::Database& db) : db_(db) {}
  db::Status begin() override;
  db::Status commit() override;
  void abandon() override { tx_.reset(); }
  bool still_open() const override;
  std::int64_t changes() const override;

 private:
  db::Database& db_;
  std::optional<db::Transaction> tx_;
};

// Ack: what answers one inbound PDU, with `void respond(std::uint32_t)`
// (smpp::Responder in giftgated, a recorder in tests).
template <typename Ack>
class GroupCommit {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State {
    idle,       // no batch: the next piece of work opens one
    open,       // a transaction is open, work joins it, a commit is scheduled
    unbatched,  // the database was busy: work runs in transactions of its own
  };
  struct Hooks {
    // Runs just before each commit, in the batch: the last work that
    // should go with it (MOs let in, outbox rows taken to be sent).
    std::function<void()> before_commit;
    // Runs after each commit point with whether the batch is on disk (true
    // also when there was no batch to commit).
    std::function<void(bool committed)> after_commit;
    // The batch failed: `refused` acknowledgements turned into temporary
    // errors, and why.
    std::function<void(std::size_t refused, const std::string& why)> failed;
    // A commit took longer than slow_commit.
    std::function<void(std::chrono::milliseconds took, std::size_t answers)> slow;
  };
  // Asks for `run` to be called at (or soon after) `at`.
  using Schedule = std::function<void(Clock::time_point at, std::function<void()> run)>;

  GroupCommit(BatchStore& store, std::function<Clock::time_point()> now, Schedule schedule,
              Hooks hooks, std::chrono::milliseconds gap,
              std::chrono::milliseconds slow_commit = std::chrono::milliseconds(50))
      : store_(store),
        now_(std::move(now)),
        schedule_(std::move(schedule)),
        hooks_(std::move(hooks)),
        gap_(gap),
        slow_commit_(slow_commit) {}

  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Makes sure a batch is open (if the database lets one begin) and a
  // commit is scheduled; call before doing any work that must join it.
  void join() {
    if (state_ == State::open && !store_.still_open()) {
      // SQLite rolled the batch back by itself: what it held is gone, so
      // nothing of it may be acknowledged.
      store_.abandon();
      state_ = State::idle;
      refuse("the batch was rolled back by SQLite");
    }
    if (state_ != State::open) {
      changes_at_begin_ = store_.changes();
      if (store_.begin().ok()) {
        state_ = State::open;
        auto again = std::move(redo_);
        redo_.clear();
        for (auto& f : again) record(std::move(f));
      } else {
        state_ = State::unbatched;
      }
    }
    if (!commit_scheduled_) {
      commit_scheduled_ = true;
      const auto at = std::max(now_(), last_commit_ + gap_);
      schedule_(at, [this] { commit(); });
    }
  }

  // Holds the answer to an inbound PDU until the batch is on disk.
  void acknowledge(Ack ack, std::uint32_t status) { answers_.emplace_back(std::move(ack), status); }

  // Calls `done` once the work done in this batch since join() is on disk
  // (true) or lost with the batch (false), with the acknowledgements.
  void after_commit(std::function<void(bool committed)> done) {
    waiters_.push_back(std::move(done));
  }

  // Runs f now, in the batch, and again in the next batch if this one fails.
  void record(std::function<void()> f) {
    f();
    if (state_ == State::open) records_.push_back(std::move(f));
  }

  // The commit point (what join scheduled): does nothing unless one is due.
  void commit() {
    if (!commit_scheduled_) return;
    commit_scheduled_ = false;
    last_commit_ = now_();
    if (hooks_.before_commit) hooks_.before_commit();
    bool committed = true;
    if (state_ == State::open) {
      const auto began = now_();
      db::Status status;
      if (!store_.still_open()) {
        store_.abandon();
        status = {1, "the batch was rolled back by SQLite"};
      } else {
        status = store_.commit();
      }
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(now_() - began);
      if (took > slow_commit_ && hooks_.slow) hooks_.slow(took, answers_.size());
      state_ = State::idle;
      if (status.ok()) {
        if (store_.changes() != changes_at_begin_) ++commits_;
      } else {
        committed = false;
        refuse(status.message);
      }
    } else if (state_ == State::unbatched) {
      state_ = State::idle;  // try a batch again next time
    }
    records_.clear();  // on disk, or moved to redo_ by refuse()
    auto answers = std::move(answers_);
    answers_.clear();
    respond(answers);
    tell_waiters(true);  // a failed batch told them already, in refuse()
    if (hooks_.after_commit) hooks_.after_commit(committed);
  }

  State state() const { return state_; }
  // Batches committed that changed something.
  std::uint64_t commits() const { return commits_; }
  // "OK" acknowledgements turned into temporary errors by failed batches.
  std::uint64_t refused() const { return refused_; }

 private:
  // The open batch is lost: its records go to the next batch, its "OK"s
  // become temporary errors, written now.
  void refuse(const std::string& why) {
    for (auto& f : records_) redo_.push_back(std::move(f));
    records_.clear();
    std::size_t refused = 0;
    for (auto& [ack, status] : answers_) {
      if (status != smpp::status::ok) continue;
      ++refused;
      status = smpp::status::temporary_app_error;
    }
    auto answers = std::move(answers_);
    answers_.clear();
    respond(answers);
    refused_ += refused + waiters_.size();
    refused += waiters_.size();
    tell_waiters(false);
    if (refused > 0 && hooks_.failed) hooks_.failed(refused, why);
  }

  void tell_waiters(bool committed) {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& done : waiters) done(committed);
  }

  // All at once where Ack can (one hand-over to the link's thread for a
  // whole batch), else one by one.
  static void respond(std::vector<std::pair<Ack, std::uint32_t>>& answers) {
    if constexpr (requires { Ack::respond_all(answers); }) {
      Ack::respond_all(answers);
    } else {
      for (auto& [ack, status] : answers) ack.respond(status);
    }
  }

  BatchStore& store_;
  std::function<Clock::time_point()> now_;
  Schedule schedule_;
  Hooks hooks_;
  std::chrono::milliseconds gap_;
  std::chrono::milliseconds slow_commit_;
  State state_ = State::idle;
  bool commit_scheduled_ = false;
  Clock::time_point last_commit_{};
  std::int64_t changes_at_begin_ = 0;
  std::vector<std::pair<Ack, std::uint32_t>> answers_;
  std::vector<std::function<void(bool)>> waiters_;  // see after_commit
  std::vector<std::function<void()>> records_;  // in the open batch
  std::vector<std::function<void()>> redo_;     // from a batch that failed
  std::uint64_t commits_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace giftgate
