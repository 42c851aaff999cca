// Bulk loads by operators (giftctl import): members with opening balances,
// merchants with their numbers and offers, and activity that earns points.
// A file is applied whole in one transaction or not at all: the first bad
// row stops it, reported with file and line, and nothing of it stays.
// Loading the same file again adds nothing twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/ledger.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

struct ImportResult {
  enum class Status {
    ok,
    bad_input,  // a row or the header is wrong: nothing applied
    failed,     // the database refused (busy, disk full): nothing applied
  };
  Status status = Status::failed;
  std::string error;          // "members.csv:17: ..." when not ok
  std::size_t rows = 0;       // data rows read
  std::size_t applied = 0;    // rows that changed something
  std::size_t skipped = 0;    // rows already applied by an earlier import
  std::int64_t points = 0;    // points added in all
};

// Called now and then with bytes read so far and the file's size.
using ImportProgress = std::function<void(std::size_t done, std::size_t total)>;

class Importer {
 public:
  Importer(db::Database& db, const CampaignConfig& config, Actor actor, ImportProgress progress = {})
      : db_(db), config_(config), actor_(std::move(actor)), progress_(std::move(progress)) {}

  // msisdn, city [, language, opt_out, points]. A member already there is
  // left as is (skipped); points is the opening balance.
  ImportResult members(std::string_view text, const std::string& name);

  // id, name, city, kind, level, phones [, offer_<tier> ...]. phones holds one
  // or more numbers separated by ';' or spaces. A merchant already there is
  // updated: name, city, kind, level, and its numbers and offers replaced.
  ImportResult merchants(std::string_view text, const std::string& name);

  // msisdn, activity, quantity, period [, id]. activity is one of the
  // accrual section's names; points = rate x quantity, within the campaign's
  // bounds on points; period is a month, YYYY-MM, between the accrual
  // section's first_period and last_period. A row is keyed by its id, or by
  // msisdn + activity + period, and is added once ever.
  ImportResult activity(std::string_view text, const std::string& name);

 private:
  db::Database& db_;
  const CampaignConfig& config_;
  Actor actor_;
  ImportProgress progress_;
};

}  // namespace giftgate
