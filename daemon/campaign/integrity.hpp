// giftctl check: whether a campaign database is sound, as a file and as a
// campaign. The file: SQLite's integrity (or quick) check and its foreign
// keys. The campaign: the rules every change keeps, which a bug, a hand edit
// or a damaged page could break unseen:
// - every voucher has exactly one deduction in the ledger (reference
//   "redeem:CODE", minus its price, from its member), and every such
//   deduction has its voucher; a refund ("void:CODE") only for a voided
//   voucher, of its price;
// - every voucher is issued once in the history and used at most once per
//   reinstatement (an operator's reinstate makes a wrongly used voucher
//   usable again), and its state is "used" exactly when used_at and used_by
//   are set;
// - every outbound message is in one valid state: a final one (delivered,
//   failed, expired) with final_at, or queued or submitted without it; and
//   one that carries a code names a voucher that exists;
// - no stock below 0, no member's balance below 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// One line of the report: a check and what it found.
struct CheckLine {
  enum class Outcome {
    ok,
    problems,  // `problems` rows break the rule; `examples` describes up to five
    corrupt,   // SQLite found the file damaged (integrity, or a read that failed)
    failed,    // could not be run (note says why)
    skipped,   // not run: note says why (the file is corrupt, the schema lacks a table)
  };
  std::string name;
  Outcome outcome = Outcome::ok;
  std::int64_t problems = 0;
  std::vector<std::string> examples;  // phone numbers and voucher codes masked
  std::string note;
};

struct IntegrityReport {
  // Set when nothing could be judged: the file cannot be read, or its
  // schema is newer than this build knows.
  std::string refused;
  bool corrupt = false;  // SQLite said the file is damaged, anywhere
  int schema_version = 0;
  std::vector<CheckLine> lines;

  // Every check ran and found nothing (a skip for a table the schema does
  // not have yet is no failure; one for corruption is).
  bool passed() const;
};

// Runs every check of a campaign database, over one snapshot.
//
// Contract: reads only, in one read transaction, so that a database
// giftgated is writing is judged at one moment (every change is one
// transaction, so a snapshot shows each whole or not at all) and giftgated
// never waits for it (WAL: a reader does not block the writer). Writes
// nothing, runs no migration: open the file with
// db::Database::open_existing, read-only. Never throws on a damaged file:
// SQLITE_CORRUPT or SQLITE_NOTADB from any statement makes the report
// corrupt, and the checks after a failed integrity check are skipped.
class IntegrityCheck {
 public:
  enum class Depth { full, quick };  // quick: quick_check instead of integrity_check

  // `newest_schema`: the last schema version this build knows; a newer file
  // is refused, its rules unknown here.
  IntegrityCheck(db::Database& db, int newest_schema) : db_(db), newest_schema_(newest_schema) {}

  IntegrityReport run(Depth depth);

 private:
  db::Database& db_;
  int newest_schema_;
};

}  // namespace giftgate
