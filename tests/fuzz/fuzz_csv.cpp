// libFuzzer target: an operator's CSV file, through the CSV reader and then
// the importer (the first octet picks members, merchants or activity), on a
// fresh copy of a small campaign database with two members. Beyond not
// crashing:
// - the records read come back the same when written out again, quoted
//   everywhere and quoted only where needed;
// - line numbers only grow, and a failed read names a line of the file;
// - an import is ok or bad_input, never a database failure (the database is
//   healthy, so a refusal there is a row the importer let through);
// - bad_input leaves the database as it was, and names file and line;
// - ok reads every record, applies or skips each row, and the same file
//   loaded again adds nothing (members, activity) or changes nothing
//   (merchants, which it updates).
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/csv.hpp"
#include "daemon/campaign/imports.hpp"
#include "daemon/config/config.hpp"
#include "daemon/storage/schema.hpp"
#include "daemon/storage/sqlite.hpp"

using namespace giftgate;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool needs_quotes(const std::string& field, bool alone) {
  if (field.empty()) return alone;  // a record of one empty field is a blank line
  if (field.find_first_of(",\"\r\n") != std::string::npos) return true;
  if (field.front() == ' ' || field.front() == '\t' || field.back() == ' ' ||
      field.back() == '\t')
    return true;
  return static_cast<unsigned char>(field.front()) == 0xEF;  // could be read as a BOM
}

std::string write_csv(const std::vector<CsvRecord>& records, bool quote_all) {
  std::string out;
  for (const auto& record : records) {
    for (std::size_t i = 0; i < record.fields.size(); ++i) {
      if (i > 0) out += ',';
      const std::string& f = record.fields[i];
      if (quote_all || needs_quotes(f, record.fields.size() == 1)) {
        out += '"';
        for (char c : f) {
          if (c == '"') out += '"';
          out += c;
        }
        out += '"';
      } else {
        out += f;
      }
    }
    out += '\n';
  }
  return out;
}

// Reads every record; false when the reader stopped on an error.
bool read_all(std::string_view text, std::vector<CsvRecord>& records, std::size_t* error_line) {
  CsvReader reader(text);
  std::size_t last_line = 0, last_offset = 0;
  while (auto record = reader.next()) {
    require(record->line > last_line && !record->fields.empty());
    require(reader.offset() >= last_offset && reader.offset() <= text.size());
    last_line = record->line;
    last_offset = reader.offset();
    records.push_back(std::move(*record));
  }
  if (reader.error().empty()) return true;
  if (error_line) *error_line = reader.error_line();
  return false;
}

void check_round_trip(std::string_view text) {
  std::vector<CsvRecord> records;
  std::size_t error_line = 0;
  const bool whole = read_all(text, records, &error_line);
  if (!whole) {
    const std::size_t lines = 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) +
                              static_cast<std::size_t>(std::count(text.begin(), text.end(), '\r'));
    require(error_line >= 1 && error_line <= lines);
  }
  for (bool quote_all : {true, false}) {
    std::vector<CsvRecord> again;
    require(read_all(write_csv(records, quote_all), again, nullptr));
    require(again.size() == records.size());
    for (std::size_t i = 0; i < records.size(); ++i) require(again[i].fields == records[i].fields);
  }
}

// The database every input starts from, and the copy it works on.
struct Files {
  std::string dir, base, work;
  Config config;
};

// libFuzzer ends with _Exit, past any destructor: each run's scratch folder
// is named by its process, and a run removes those of runs no longer alive.
void remove_dead_runs(const std::filesystem::path& tmp) {
  constexpr std::string_view prefix = "giftgate-fuzz-csv-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      std::filesystem::remove_all(entry.path(), ec);
  }
}

std::unique_ptr<db::Database> open(const std::string& path) {
  std::string error;
  auto db = db::Database::open({path, std::chrono::milliseconds(1000)}, schema_migrations(), &error);
  require(db != nullptr);
  return db;
}

const Files& files() {
  static const Files f = [] {
    Files f;
    // In memory where there is a tmpfs: two commits per input.
    const std::filesystem::path tmp = std::filesystem::is_directory("/dev/shm")
                                          ? std::filesystem::path("/dev/shm")
                                          : std::filesystem::temp_directory_path();
    remove_dead_runs(tmp);
    f.dir = (tmp / ("giftgate-fuzz-csv-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(f.dir);
    require(std::filesystem::create_directory(f.dir));
    f.base = f.dir + "/base.db";
    f.work = f.dir + "/work.db";
    std::string error;
    auto config = parse_config(default_config_text(), "built-in", &error);
    require(config.has_value());
    f.config = *config;
    auto db = open(f.base);
    const auto r = Importer(*db, f.config, {"import", "fuzz"})
                       .members("msisdn,city,points\n13800138000,beijing,1000\n"
                                "13900000001,shanghai,0\n",
                                "base.csv");
    require(r.status == ImportResult::Status::ok && r.applied == 2);
    return f;  // closing the database folds its log into the file
  }();
  return f;
}

std::string query(db::Database& db, const std::string& sql) {
  auto q = db.prepare(sql);
  require(q.step() == db::StepResult::row);
  return q.column_text(0);
}

std::string counts(db::Database& db) {
  return query(db,
               "SELECT (SELECT COUNT(*) FROM members) || '/' || (SELECT COUNT(*) FROM ledger) || '/' "
               "|| (SELECT COALESCE(SUM(delta), 0) FROM ledger) || '/' || (SELECT COUNT(*) FROM "
               "events) || '/' || (SELECT COUNT(*) FROM merchants) || '/' || (SELECT COUNT(*) "
               "FROM merchant_phones) || '/' || (SELECT COUNT(*) FROM merchant_offers)");
}

std::string merchant_rows(db::Database& db) {
  return query(db,
               "SELECT COALESCE((SELECT GROUP_CONCAT(v, char(10)) FROM (SELECT id || '|' || name "
               "|| '|' || city || '|' || kind || '|' || level AS v FROM merchants ORDER BY id)), '') "
               "|| char(10) || COALESCE((SELECT GROUP_CONCAT(v, char(10)) FROM (SELECT msisdn || "
               "'|' || merchant_id AS v FROM merchant_phones ORDER BY msisdn)), '') || char(10) || "
               "COALESCE((SELECT GROUP_CONCAT(v, char(10)) FROM (SELECT merchant_id || '|' || tier "
               "|| '|' || offer AS v FROM merchant_offers ORDER BY merchant_id, tier)), '')");
}

enum class Kind { members, merchants, activity };

ImportResult import(db::Database& db, const Config& config, Kind kind, std::string_view text) {
  Importer importer(db, config, {"import", "fuzz"});
  switch (kind) {
    case Kind::members: return importer.members(text, "fuzz.csv");
    case Kind::merchants: return importer.merchants(text, "fuzz.csv");
    case Kind::activity: return importer.activity(text, "fuzz.csv");
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 4096) return 0;
  const Kind kind = static_cast<Kind>(data[0] % 3);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_round_trip(text);

  const Files& f = files();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(f.work + suffix);
  std::filesystem::copy_file(f.base, f.work);
  auto db = open(f.work);
  require(db->exec("PRAGMA synchronous=OFF").ok());  // a scratch copy: no need to sync
  const std::string before = counts(*db);

  const ImportResult r = import(*db, f.config, kind, text);
  require(r.status != ImportResult::Status::failed);
  if (r.status == ImportResult::Status::bad_input) {
    require(r.error.rfind("fuzz.csv:", 0) == 0);
    require(counts(*db) == before);
    return 0;
  }
  require(r.error.empty());
  std::vector<CsvRecord> records;
  require(read_all(text, records, nullptr) && !records.empty());
  require(r.rows == records.size() - 1);
  require(r.applied + r.skipped == r.rows);

  const std::string after = counts(*db), merchants = merchant_rows(*db);
  const ImportResult again = import(*db, f.config, kind, text);
  require(again.status == ImportResult::Status::ok && again.rows == r.rows);
  require(merchant_rows(*db) == merchants);
  if (kind != Kind::merchants) {
    require(again.applied == 0 && again.skipped == r.rows && again.points == 0);
    require(counts(*db) == after);
  }
  return 0;
}
