#include "daemon/campaign/integrity.hpp"

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <string_view>

#include <fmt/format.h>

#include "daemon/campaign/phone.hpp"
#include "daemon/storage/file_check.hpp"

namespace giftgate {
namespace {

// A code is as good as its voucher and the report goes to cron mail: the
// letters only, which narrow nothing down. The voucher's row number says
// which one it is, for an operator at the database.
std::string masked_code(const std::string& code) {
  return code.size() < 2 ? std::string("**") : code.substr(0, 2) + std::string(8, '*');
}

std::string voucher(const db::Statement& row, int rowid, int code, int msisdn) {
  return fmt::format("voucher #{} ({}) of {}", row.column_int(rowid),
                     masked_code(row.column_text(code)),
                     row.column_null(msisdn) ? std::string("no member")
                                             : mask_msisdn(row.column_text(msisdn)));
}

// One rule: its line's name, the tables it reads, a query whose every row
// breaks it, and how a row is said.
struct Rule {
  const char* name;
  std::initializer_list<std::string_view> tables;
  const char* sql;
  std::function<std::string(const db::Statement&)> describe;
};

const Rule kRules[] = {
    {"vouchers: one deduction each, of the price, from their member",
     {"vouchers", "ledger", "members"},
     "SELECT v.rowid, v.code, m.msisdn, v.price, "
     "(SELECT COUNT(*) FROM ledger l WHERE l.reference = 'redeem:' || v.code) AS n, "
     "(SELECT COUNT(*) FROM ledger l WHERE l.reference = 'redeem:' || v.code "
     " AND l.delta = -v.price AND l.member_id = v.member_id) AS fit "
     "FROM vouchers v LEFT JOIN members m ON m.id = v.member_id WHERE n <> 1 OR fit <> 1",
     [](const db::Statement& r) {
       const auto n = r.column_int(4);
       return voucher(r, 0, 1, 2) +
              (n == 0  ? std::string(": no deduction in the ledger")
               : n > 1 ? fmt::format(": {} deductions", n)
                       : fmt::format(": its deduction is not -{} from its member", r.column_int(3)));
     }},
    {"ledger: every redemption's deduction has its voucher",
     {"vouchers", "ledger", "members"},
     "SELECT l.id, substr(l.reference, 8), m.msisdn FROM ledger l "
     "LEFT JOIN members m ON m.id = l.member_id WHERE l.reference LIKE 'redeem:%' AND "
     "NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.code = substr(l.reference, 8))",
     [](const db::Statement& r) {
       return fmt::format("ledger entry #{} of {}: voucher {} does not exist", r.column_int(0),
                          mask_msisdn(r.column_text(2)), masked_code(r.column_text(1)));
     }},
    {"ledger: refunds only for voided vouchers, of the price",
     {"vouchers", "ledger", "members"},
     "SELECT l.id, substr(l.reference, 6), m.msisdn, v.state, l.delta, v.price FROM ledger l "
     "LEFT JOIN vouchers v ON v.code = substr(l.reference, 6) "
     "LEFT JOIN members m ON m.id = l.member_id WHERE l.reference LIKE 'void:%' AND "
     "(v.code IS NULL OR v.state <> 'void' OR l.delta <> v.price OR l.member_id <> v.member_id)",
     [](const db::Statement& r) {
       return fmt::format("ledger entry #{} of {}: refund of {} for voucher {}, {}",
                          r.column_int(0), mask_msisdn(r.column_text(2)), r.column_int(4),
                          masked_code(r.column_text(1)),
                          r.column_null(3) ? std::string("which does not exist")
                                           : fmt::format("{} (price {})", r.column_text(3),
                                                         r.column_int(5)));
     }},
    {"vouchers: issued once each in the history",
     {"vouchers", "events", "members"},
     "SELECT v.rowid, v.code, m.msisdn, (SELECT COUNT(*) FROM events e WHERE e.voucher_code = "
     "v.code AND e.kind = 'voucher_issued') AS n FROM vouchers v "
     "LEFT JOIN members m ON m.id = v.member_id WHERE n <> 1",
     [](const db::Statement& r) {
       return fmt::format("{}: {} issue events", voucher(r, 0, 1, 2), r.column_int(3));
     }},
    // Uses and reinstatements alternate (use needs 'issued', reinstate
    // 'used'), so their difference is 1 for a used voucher, else 0.
    {"vouchers: never used twice",
     {"vouchers", "events", "members"},
     "SELECT v.rowid, v.code, m.msisdn, v.state, "
     "(SELECT COUNT(*) FROM events e WHERE e.voucher_code = v.code AND e.kind = 'voucher_used') "
     "AS uses, (SELECT COUNT(*) FROM events e WHERE e.voucher_code = v.code AND "
     "e.kind = 'voucher_reinstated') AS back FROM vouchers v "
     "LEFT JOIN members m ON m.id = v.member_id WHERE uses - back <> (v.state = 'used')",
     [](const db::Statement& r) {
       return fmt::format("{}: {}, used {} times, reinstated {} times", voucher(r, 0, 1, 2),
                          r.column_text(3), r.column_int(4), r.column_int(5));
     }},
    {"vouchers: 'used' exactly when used_at and used_by are set",
     {"vouchers", "members"},
     "SELECT v.rowid, v.code, m.msisdn, v.state, v.used_at IS NULL, v.used_by IS NULL "
     "FROM vouchers v LEFT JOIN members m ON m.id = v.member_id "
     "WHERE (v.state = 'used') <> (v.used_at IS NOT NULL AND v.used_by IS NOT NULL)",
     [](const db::Statement& r) {
       return fmt::format("{}: {} with used_at {} and used_by {}", voucher(r, 0, 1, 2),
                          r.column_text(3), r.column_int(4) ? "empty" : "set",
                          r.column_int(5) ? "empty" : "set");
     }},
    {"outbox: every message in one valid state",
     {"outbox"},
     "SELECT id, state, final_at IS NULL FROM outbox WHERE NOT ("
     "((state = 'delivered' OR state = 'failed' OR state = 'expired') AND final_at IS NOT NULL) OR "
     "((state = 'queued' OR state = 'submitted') AND final_at IS NULL))",
     [](const db::Statement& r) {
       return fmt::format("message {}: state '{}' {} final_at", r.column_int(0), r.column_text(1),
                          r.column_int(2) ? "without" : "with");
     }},
    {"outbox: a voucher's message names a voucher that exists",
     {"outbox", "vouchers"},
     "SELECT o.id, o.voucher_code FROM outbox o WHERE o.voucher_code IS NOT NULL AND "
     "NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.code = o.voucher_code)",
     [](const db::Statement& r) {
       return fmt::format("message {}: voucher {} does not exist", r.column_int(0),
                          masked_code(r.column_text(1)));
     }},
    {"message history: a voucher's message names a voucher that exists",
     {"message_history", "vouchers"},
     "SELECT h.id, h.voucher_code FROM message_history h WHERE h.voucher_code IS NOT NULL AND "
     "NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.code = h.voucher_code)",
     [](const db::Statement& r) {
       return fmt::format("message {}: voucher {} does not exist", r.column_int(0),
                          masked_code(r.column_text(1)));
     }},
    {"message history: no message both there and in the outbox",
     {"message_history", "outbox"},
     "SELECT h.id FROM message_history h JOIN outbox o ON o.id = h.id",
     [](const db::Statement& r) { return fmt::format("message {}: in both", r.column_int(0)); }},
    {"stock: never below 0",
     {"stock"},
     "SELECT tier, city, quantity FROM stock WHERE quantity < 0",
     [](const db::Statement& r) {
       return fmt::format("tier {} in {}: {}", r.column_text(0), r.column_text(1),
                          r.column_int(2));
     }},
    {"members: no balance below 0",
     {"ledger", "members"},
     "SELECT m.id, m.msisdn, SUM(l.delta) FROM ledger l JOIN members m ON m.id = l.member_id "
     "GROUP BY m.id HAVING SUM(l.delta) < 0",
     [](const db::Statement& r) {
       return fmt::format("member #{} ({}): {} points", r.column_int(0),
                          mask_msisdn(r.column_text(1)), r.column_int(2));
     }},
};

// The line for a finding, and whether it showed the file corrupt.
CheckLine line_for(const char* name, const db::Finding& f) {
  CheckLine line;
  line.name = name;
  line.problems = f.problems;
  line.examples = f.examples;
  if (f.corrupt()) {
    line.outcome = CheckLine::Outcome::corrupt;
    line.note = f.status.message;
  } else if (!f.ran()) {
    line.outcome = CheckLine::Outcome::failed;
    line.note = f.status.message;
  } else if (f.problems > 0) {
    line.outcome = CheckLine::Outcome::problems;
  }
  return line;
}

}  // namespace

bool IntegrityReport::passed() const {
  if (!refused.empty() || corrupt) return false;
  return std::all_of(lines.begin(), lines.end(), [](const CheckLine& l) {
    return l.outcome == CheckLine::Outcome::ok || l.outcome == CheckLine::Outcome::skipped;
  });
}

IntegrityReport IntegrityCheck::run(Depth depth) {
  IntegrityReport report;
  const char* structure_name = depth == Depth::quick ? "file: structure (quick_check)"
                                                     : "file: structure (integrity_check)";
  // BEGIN takes no lock; the first read below starts the snapshot that
  // every check after it reads.
  if (db::Status s = db_.exec("BEGIN"); !s.ok()) {
    report.refused = s.message;
    return report;
  }
  db::Status s;
  std::optional<db::Statement> version = db_.try_prepare("PRAGMA user_version", &s);
  if (version && version->step() != db::StepResult::row) s = version->status();
  if (!version || !s.ok()) {
    if (db::is_corrupt(s)) {
      report.corrupt = true;
      report.lines.push_back({structure_name, CheckLine::Outcome::corrupt, 0, {}, s.message});
    } else {
      report.refused = s.message;
    }
    (void)db_.exec("ROLLBACK");
    return report;
  }
  report.schema_version = static_cast<int>(version->column_int(0));
  version.reset();
  if (report.schema_version > newest_schema_) {
    report.refused = fmt::format("schema version {} is newer than this build's {}: use the "
                                 "giftctl of the giftgate that wrote it",
                                 report.schema_version, newest_schema_);
    (void)db_.exec("ROLLBACK");
    return report;
  }

  report.lines.push_back(line_for(structure_name, db::structure_check(db_, depth == Depth::quick)));
  report.lines.push_back(line_for("file: foreign keys", db::foreign_key_check(db_)));
  report.corrupt = std::any_of(report.lines.begin(), report.lines.end(), [](const CheckLine& l) {
    return l.outcome == CheckLine::Outcome::corrupt;
  });
  const auto tables = db::table_names(db_, &s);
  if (!s.ok() && db::is_corrupt(s)) report.corrupt = true;
  for (const Rule& rule : kRules) {
    CheckLine line{rule.name, CheckLine::Outcome::skipped, 0, {}, {}};
    const auto missing = std::find_if(rule.tables.begin(), rule.tables.end(), [&](auto t) {
      return std::find(tables.begin(), tables.end(), t) == tables.end();
    });
    if (report.corrupt) {
      line.note = "the file is corrupt";
    } else if (!s.ok()) {
      line.outcome = CheckLine::Outcome::failed;
      line.note = s.message;
    } else if (missing != rule.tables.end()) {
      line.note = fmt::format("schema {} has no table {}", report.schema_version, *missing);
    } else {
      line = line_for(rule.name, db::problem_rows(db_, rule.sql, rule.describe));
      if (line.outcome == CheckLine::Outcome::corrupt) report.corrupt = true;
    }
    report.lines.push_back(std::move(line));
  }
  (void)db_.exec("ROLLBACK");
  return report;
}

}  // namespace giftgate
