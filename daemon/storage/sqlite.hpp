// A thin RAII layer over SQLite: one connection, prepared statements, and
// transactions that roll back unless committed. Every statement is prepared
// (never text spliced with values). Failures the daemon must survive (busy,
// disk full, a constraint) come back as a Status; a statement that does not
// prepare is a programming error and throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace giftgate::db {

// The outcome of one database call: SQLite's result code and its message.
struct Status {
  int code = 0;  // SQLITE_OK, SQLITE_ROW, SQLITE_DONE, or an error code
  std::string message;

  bool ok() const;
  bool busy() const;        // the database stayed locked past the busy timeout
  bool constraint() const;  // a UNIQUE, CHECK or foreign-key constraint failed
  explicit operator bool() const { return ok(); }
};

class Database;

// What one step of a statement found: a row to read, the end (no row, or no
// more), or an error (status() says which). Three values, and no bool: "no
// such member" and "the disk is busy" must never read the same.
enum class [[nodiscard]] StepResult { row, done, error };

// Prepared statements the connection keeps for reuse, by their SQL: the
// daemon runs the same few dozen statements for every message, and parsing
// them each time cost more than running them.
struct StatementCache;

// A prepared statement. Parameters are bound by 1-based index. Taken from
// the connection's cache when that SQL ran before, and given back (reset,
// bindings cleared) when destroyed.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);  // throws when the SQL does not prepare
  ~Statement();
  Statement(Statement&&) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, std::nullopt_t);
  Statement& bind(int index, const std::optional<std::string>& value);
  // Bytes as a BLOB (a digest), not as text: a BLOB never equals a TEXT.
  Statement& bind_blob(int index, std::span<const unsigned char> bytes);

  // Runs the statement one step. After error, status() says what failed.
  [[nodiscard]] StepResult step();
  // Steps to the end; the status of the run.
  Status run();
  // Calls `on_row` for each row; the status at the end: ok when every row
  // was read, the error that cut the rows short otherwise.
  template <class OnRow>
  [[nodiscard]] Status each_row(OnRow&& on_row) {
    StepResult r;
    while ((r = step()) == StepResult::row) on_row();
    return status_;
  }
  // Back to the start, bindings cleared, for the next use.
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  std::vector<unsigned char> column_blob(int index) const;
  bool column_null(int index) const;

  const Status& status() const { return status_; }

 private:
  friend class Database;
  // The prepared statement, or the code of why it did not prepare.
  Statement(Database& db, std::string_view sql, int* rc);

  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<StatementCache> cache_;  // outlives the Database if need be
  std::vector<sqlite3_stmt*>* home_ = nullptr;  // this SQL's free list in the cache
  Status status_;
};

// One numbered schema step, applied once, in order: its SQL, then, if
// there is one, a step that needs more than SQL (reading a value first). Both
// run in the migration's transaction.
struct Migration {
  int version;
  std::string_view sql;
  Status (*apply)(Database&) = nullptr;
};

class Database {
 public:
  struct Options {
    std::string path;
    std::chrono::milliseconds busy_timeout{5000};  // how long to wait for another writer
  };

  // Opens (creating with mode 0600 if missing; an existing database and its
  // -wal and -shm files made 0600 too), sets WAL and synchronous=FULL,
  // and applies the migrations newer than the file's schema. Refuses a
  // database whose schema is newer than the last migration.
  static std::unique_ptr<Database> open(const Options& options,
                                        std::span<const Migration> migrations,
                                        std::string* error);
  // Opens a database file that exists, as it is: nothing created, no
  // migration, no pragma that writes (its journal mode stays). For the
  // tools that look at a file or copy it (giftctl check, backup, restore),
  // which must not change it, and must be able to look at a file this build
  // would not migrate: a newer one, a damaged one. Read-only unless
  // `writable` (giftctl backup's row in backups).
  static std::unique_ptr<Database> open_existing(const std::string& path, bool writable,
                                                 std::chrono::milliseconds busy_timeout,
                                                 std::string* error);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL without parameters (schema, pragmas).
  Status exec(std::string_view sql);

  Statement prepare(std::string_view sql) { return Statement(*this, sql); }
  // For SQL that may fail to prepare through no fault of its own: the file's
  // schema is damaged (SQLITE_CORRUPT, SQLITE_NOTADB) or lacks a table.
  // nullopt with *status saying why; never throws.
  std::optional<Statement> try_prepare(std::string_view sql, Status* status);
  // The first column of the first row of `sql` (a pragma, a count): nullopt
  // with *status saying why (also when there is no row). Never throws.
  std::optional<std::int64_t> first_int(std::string_view sql, Status* status);

  // PRAGMA user_version, or nullopt when it cannot be read.
  std::optional<int> schema_version();
  std::int64_t last_insert_id() const;
  int changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // The last error as a Status.
  Status last_status(int code) const;

  // Checkpoint when the write-ahead log passes this many pages (SQLite's
  // default is 1000).
  void set_checkpoint_pages(int pages);

  // For tests: the n-th statement step or exec() from now (0: the next one)
  // fails with `code` without running, once; every other call runs as
  // usual (n below 0 disarms). How tests show that each failure is
  // answered as a failure. Unarmed it costs one comparison per step.
  void fail_statement_after(int n, int code);
  // Whether the armed failure has happened (and is spent).
  bool statement_failure_spent() const { return fault_countdown_ < 0 && fault_code_ != 0; }

 private:
  friend class Statement;
  friend class Transaction;
  Database(sqlite3* db, std::string path);
  // Whether this step or exec is the one to fail (see fail_statement_after).
  bool injected_failure() {
    if (fault_countdown_ < 0) return false;
    return fault_countdown_-- == 0;
  }
  sqlite3* db_;
  std::string path_;
  std::shared_ptr<StatementCache> cache_;
  int fault_countdown_ = -1;  // statements to let through before the failure; -1: none armed
  int fault_code_ = 0;
  int open_transactions_ = 0;  // Transactions begun and not ended, the outermost first
  // The depth of the transaction that holds changes a failed savepoint
  // rollback left behind (0: none): no commit until it is rolled back.
  int unrollable_at_ = 0;
};

// BEGIN IMMEDIATE .. COMMIT; rolls back when destroyed uncommitted. IMMEDIATE
// takes the write lock at once, so two writers queue instead of deadlocking.
// Inside another transaction it is a savepoint: its commit keeps its changes
// for the outer transaction to commit, its rollback undoes only its own.
// A savepoint whose rollback fails has left its changes in the outer
// transaction: from then on every commit fails, until a transaction that
// holds them is rolled back, so that half of a change is never committed.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Whether BEGIN succeeded (it fails when the database stays busy).
  const Status& begun() const { return begin_; }
  Status commit();

 private:
  Database& db_;
  Status begin_;
  bool open_ = false;
  bool nested_ = false;
  int depth_ = 0;  // 1 for the outermost
};

// Copies the write-ahead log into the database file from a thread and a
// connection of its own (a passive checkpoint every `every`), so the
// daemon's thread rarely stops to do it at a commit: by the time its own
// connection checkpoints (every set_checkpoint_pages pages, which also lets
// the log start afresh) little is left to copy.
class Checkpointer {
 public:
  Checkpointer(const std::string& path, std::chrono::milliseconds every);
  ~Checkpointer();  // stops and waits for the thread
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints done (on a database in WAL mode) and log pages copied so far.
  std::uint64_t runs() const;
  std::uint64_t pages_copied() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace giftgate::db
