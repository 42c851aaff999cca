#include "daemon/storage/sqlite.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <sqlite3.h>

#include "daemon/storage/page_cache.hpp"

namespace giftgate::db {

bool Status::ok() const { return code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW; }
bool Status::busy() const { return (code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED; }
bool Status::constraint() const { return (code & 0xFF) == SQLITE_CONSTRAINT; }

// ---------------------------------------------------------------- Statement

struct StatementCache {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Node-based: a free list's address stays put while others are added.
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, Hash, std::equal_to<>> free;
  bool closed = false;

  void finalize_all() {
    for (auto& [sql, list] : free)
      for (sqlite3_stmt* s : list) sqlite3_finalize(s);
    free.clear();
  }
};

Statement::Statement(Database& db, std::string_view sql, int* rc) : db_(&db), cache_(db.cache_) {
  *rc = SQLITE_OK;
  auto it = cache_->free.find(sql);
  if (it == cache_->free.end()) it = cache_->free.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
  home_ = &it->second;
  if (!home_->empty()) {
    stmt_ = home_->back();
    home_->pop_back();
    return;
  }
  *rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
}

Statement::Statement(Database& db, std::string_view sql) : Statement(db, sql, &status_.code) {
  if (status_.code != SQLITE_OK)
    throw std::logic_error(fmt::format("SQL does not prepare: {}: {}", sqlite3_errmsg(db.handle()),
                                       sql));
}

Statement::~Statement() {
  if (!stmt_) return;
  if (cache_->closed) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  home_->push_back(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      cache_(other.cache_),
      home_(other.home_),
      status_(std::move(other.status_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  sqlite3_bind_text(stmt_, index, value.data() ? value.data() : "",
                    static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind(index, std::nullopt);
}

Statement& Statement::bind_blob(int index, std::span<const unsigned char> bytes) {
  // An empty span may have no data pointer, which SQLite would bind as NULL.
  static const unsigned char kNone = 0;
  sqlite3_bind_blob(stmt_, index, bytes.empty() ? &kNone : bytes.data(),
                    static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

StepResult Statement::step() {
  if (db_->injected_failure()) {
    status_ = Status{db_->fault_code_, "injected failure (a test's fail_statement_after)"};
    return StepResult::error;
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    status_ = Status{rc, {}};
    return StepResult::row;
  }
  if (rc == SQLITE_DONE) {
    status_ = Status{rc, {}};
    return StepResult::done;
  }
  status_ = db_->last_status(rc);
  return StepResult::error;
}

Status Statement::run() {
  while (step() == StepResult::row) {
  }
  return status_;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
              : std::string();
}

std::vector<unsigned char> Statement::column_blob(int index) const {
  const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, index));
  return data ? std::vector<unsigned char>(
                    data, data + static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
              : std::vector<unsigned char>();
}

bool Statement::column_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// ---------------------------------------------------------------- Database

namespace {

// Opens `path` (creating it 0600 when `create`) and takes from it any access
// for group and others. Empty when done, or when the file is missing and
// not to be created; else what went wrong.
std::string make_private(const std::string& path, bool create) {
  // umask can only take bits from 0600, never add any.
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0)
    return !create && errno == ENOENT ? std::string()
                                      : fmt::format("{}: {}", path, std::strerror(errno));
  std::string error;
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    error = fmt::format("{}: {}", path, std::strerror(errno));
  else if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 &&
           ::fchmod(fd, st.st_mode & 0700) != 0)
    error = fmt::format("{}: mode {:04o} lets others read it, and it cannot be made 0600: {}",
                        path, st.st_mode & 07777, std::strerror(errno));
  ::close(fd);
  return error;
}

}  // namespace

Status Database::last_status(int code) const {
  return Status{code, sqlite3_errmsg(db_)};
}

std::unique_ptr<Database> Database::open(const Options& options,
                                         std::span<const Migration> migrations,
                                         std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<Database> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  install_page_cache();  // before SQLite starts; a no-op after the first time
  // Members' numbers and voucher codes live here and in the -wal and -shm
  // files: only the owner may read them. Creating the database first fixes
  // its mode, and SQLite gives new -wal and -shm files the same. Files that
  // exist already (restored from a copy, left by an older giftgate, or made
  // with a loose umask) are made private here, at every open.
  for (const char* suffix : {"", "-wal", "-shm"})
    if (auto e = make_private(options.path + suffix, *suffix == '\0'); !e.empty())
      return fail(std::move(e));

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(raw, options.path));
  if (rc != SQLITE_OK) return fail(fmt::format("{}: {}", options.path, sqlite3_errmsg(raw)));
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
  sqlite3_extended_result_codes(raw, 1);

  // WAL lets giftctl read while the daemon writes. synchronous=FULL makes
  // every commit durable before it returns: the daemon acknowledges an MO to
  // the SMSC only after its commit, and with NORMAL a power cut could undo a
  // committed redemption the SMSC has already forgotten.
  // The daemon batches work in one transaction with a savepoint per message:
  // the savepoints' journal stays in memory, and a larger page cache keeps
  // the indexes a message touches (members, outbox, parts) from being read
  // again for the next one.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY",
                             "PRAGMA cache_size=-32768"}) {
    Status s = db->exec(pragma);
    if (!s.ok()) return fail(fmt::format("{}: {}: {}", options.path, pragma, s.message));
  }

  const auto version = db->schema_version();
  if (!version)
    return fail(fmt::format("{}: the schema version cannot be read: {}", options.path,
                            sqlite3_errmsg(raw)));
  const int have = *version;
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (have > latest)
    return fail(fmt::format("{}: schema version {} is newer than this program's {}; "
                            "use the newer giftgate",
                            options.path, have, latest));
  for (const Migration& m : migrations) {
    if (m.version <= have) continue;
    Transaction tx(*db);
    if (!tx.begun().ok()) return fail(fmt::format("{}: {}", options.path, tx.begun().message));
    Status s = db->exec(m.sql);
    if (s.ok() && m.apply) s = m.apply(*db);
    if (s.ok()) s = db->exec(fmt::format("PRAGMA user_version={}", m.version));
    if (s.ok()) s = tx.commit();
    if (!s.ok())
      return fail(fmt::format("{}: migration {}: {}", options.path, m.version, s.message));
  }
  // A migration that edited the stored schema raised its version: the next
  // read notices and parses the schema again. Done here so that every
  // statement from now on is prepared against the schema as it is.
  if (have < latest)
    if (const Status s = db->exec("SELECT COUNT(*) FROM sqlite_schema"); !s.ok())
      return fail(fmt::format("{}: {}", options.path, s.message));
  return db;
}

std::unique_ptr<Database> Database::open_existing(const std::string& path, bool writable,
                                                  std::chrono::milliseconds busy_timeout,
                                                  std::string* error) {
  install_page_cache();
  sqlite3* raw = nullptr;
  const int flags = (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) {
    if (error) *error = fmt::format("{}: {}", path, sqlite3_errmsg(raw));
    return nullptr;
  }
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

std::optional<Statement> Database::try_prepare(std::string_view sql, Status* status) {
  int rc = SQLITE_OK;
  Statement s(*this, sql, &rc);
  if (rc == SQLITE_OK) return s;
  if (status) *status = last_status(rc);
  return std::nullopt;
}

std::optional<std::int64_t> Database::first_int(std::string_view sql, Status* status) {
  auto q = try_prepare(sql, status);
  if (!q) return std::nullopt;
  switch (q->step()) {
    case StepResult::row: return q->column_int(0);
    case StepResult::done: *status = Status{SQLITE_ERROR, "no row"}; return std::nullopt;
    case StepResult::error: *status = q->status(); return std::nullopt;
  }
  return std::nullopt;
}

Database::Database(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), cache_(std::make_shared<StatementCache>()) {}

Database::~Database() {
  cache_->finalize_all();
  cache_->closed = true;  // statements still out finalize themselves
  sqlite3_close_v2(db_);
}

Status Database::exec(std::string_view sql) {
  if (injected_failure())
    return Status{fault_code_, "injected failure (a test's fail_statement_after)"};
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  Status s{rc, message ? message : ""};
  sqlite3_free(message);
  return s;
}

std::optional<int> Database::schema_version() {
  Statement s(*this, "PRAGMA user_version");
  if (s.step() != StepResult::row) return std::nullopt;
  return static_cast<int>(s.column_int(0));
}

void Database::fail_statement_after(int n, int code) {
  fault_countdown_ = n < 0 ? -1 : n;  // below 0: disarmed
  fault_code_ = n < 0 ? 0 : code;
}

std::int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

void Database::set_checkpoint_pages(int pages) { sqlite3_wal_autocheckpoint(db_, pages); }

// ---------------------------------------------------------------- Checkpointer

struct Checkpointer::State {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::atomic<std::uint64_t> runs{0};
  std::atomic<std::uint64_t> pages{0};
  std::thread thread;
};

Checkpointer::Checkpointer(const std::string& path, std::chrono::milliseconds every)
    : state_(std::make_unique<State>()) {
  state_->thread = std::thread([state = state_.get(), path, every] {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      return;  // the daemon's own connection checkpoints instead
    }
    sqlite3_busy_timeout(db, 100);
    // A connection that has read nothing does not know the database is in
    // WAL mode: its checkpoints would succeed doing nothing (log size -1).
    sqlite3_exec(db, "PRAGMA journal_mode", nullptr, nullptr, nullptr);
    std::unique_lock lock(state->mutex);
    while (!state->stop) {
      state->wake.wait_for(lock, every, [&] { return state->stop; });
      if (state->stop) break;
      lock.unlock();
      int log_pages = -1, copied = 0;
      if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied) ==
              SQLITE_OK &&
          log_pages >= 0) {
        ++state->runs;
        state->pages += static_cast<std::uint64_t>(copied);
      }
      lock.lock();
    }
    sqlite3_close(db);
  });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake.notify_all();
  state_->thread.join();
}

std::uint64_t Checkpointer::runs() const { return state_->runs.load(); }

std::uint64_t Checkpointer::pages_copied() const { return state_->pages.load(); }

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(Database& db) : db_(db) {
  nested_ = sqlite3_get_autocommit(db_.handle()) == 0;
  begin_ = db_.prepare(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE").run();
  open_ = begin_.ok();
  if (!open_) return;
  // A transaction begun outside any of ours (BEGIN by exec) counts as one.
  if (!nested_) db_.open_transactions_ = 0;
  depth_ = ++db_.open_transactions_;
}

Transaction::~Transaction() {
  if (!open_) return;
  --db_.open_transactions_;
  if (nested_) {
    const bool undone = db_.prepare("ROLLBACK TO nested").run().ok();
    const bool released = db_.prepare("RELEASE nested").run().ok();
    if (undone && released) {
      if (db_.unrollable_at_ >= depth_) db_.unrollable_at_ = 0;
    } else if (db_.unrollable_at_ == 0 || db_.unrollable_at_ > depth_ - 1) {
      db_.unrollable_at_ = depth_ - 1;  // its changes are the outer transaction's now
    }
    return;
  }
  // Tried twice: a transaction left open would swallow every later one.
  if (!db_.prepare("ROLLBACK").run().ok() && sqlite3_get_autocommit(db_.handle()) == 0)
    (void)db_.prepare("ROLLBACK").run();
  db_.unrollable_at_ = 0;
}

Status Transaction::commit() {
  if (!open_) return begin_.ok() ? Status{SQLITE_MISUSE, "transaction already ended"} : begin_;
  if (db_.unrollable_at_ != 0)
    return Status{SQLITE_ABORT, "a rollback inside this transaction failed: not committed"};
  Status s = db_.prepare(nested_ ? "RELEASE nested" : "COMMIT").run();
  if (s.ok()) {
    open_ = false;
    --db_.open_transactions_;
  }
  return s;
}

}  // namespace giftgate::db
