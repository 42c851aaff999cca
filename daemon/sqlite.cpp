#include "daemon/sqlite.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <sqlite3.h>

namespace giftgate::db {

bool Status::ok() const { return code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW; }
bool Status::busy() const { return (code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED; }
bool Status::constraint() const { return (code & 0xFF) == SQLITE_CONSTRAINT; }

// ---------------------------------------------------------------- Statement

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK)
    throw std::logic_error(fmt::format("SQL does not prepare: {}: {}", sqlite3_errmsg(db.handle()),
                                       sql));
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), status_(std::move(other.status_)) {
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

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  status_ = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status{rc, {}} : db_->last_status(rc);
  return rc == SQLITE_ROW;
}

Status Statement::run() {
  while (step()) {
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

bool Statement::column_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// ---------------------------------------------------------------- Database

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
  // Members' numbers and voucher codes live here: only the owner may read it.
  // Creating the file first fixes its mode; SQLite gives the -wal and -shm
  // files the same.
  const int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(fmt::format("{}: {}", options.path, std::strerror(errno)));
  ::close(fd);

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
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON"}) {
    Status s = db->exec(pragma);
    if (!s.ok()) return fail(fmt::format("{}: {}: {}", options.path, pragma, s.message));
  }

  const int have = db->schema_version();
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
    if (s.ok()) s = db->exec(fmt::format("PRAGMA user_version={}", m.version));
    if (s.ok()) s = tx.commit();
    if (!s.ok())
      return fail(fmt::format("{}: migration {}: {}", options.path, m.version, s.message));
  }
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  Status s{rc, message ? message : ""};
  sqlite3_free(message);
  return s;
}

int Database::schema_version() {
  Statement s(*this, "PRAGMA user_version");
  return s.step() ? static_cast<int>(s.column_int(0)) : 0;
}

std::int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(Database& db) : db_(db) {
  nested_ = sqlite3_get_autocommit(db_.handle()) == 0;
  begin_ = db_.exec(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
  open_ = begin_.ok();
}

Transaction::~Transaction() {
  if (!open_) return;
  if (nested_) {
    db_.exec("ROLLBACK TO nested");
    db_.exec("RELEASE nested");
  } else {
    db_.exec("ROLLBACK");
  }
}

Status Transaction::commit() {
  if (!open_) return begin_.ok() ? Status{SQLITE_MISUSE, "transaction already ended"} : begin_;
  Status s = db_.exec(nested_ ? "RELEASE nested" : "COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace giftgate::db
