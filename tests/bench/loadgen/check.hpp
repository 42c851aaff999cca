// The drills' verdict: the daemon's database read against what the load
// generator saw. Every MO the SMSC saw acknowledged has its effect, nothing
// took effect twice, every voucher has exactly one deduction, every voucher
// SMS ended delivered or failed, and copies sent twice are no more than the
// submits whose answer was in doubt. With several SMSCs, over what all of
// them saw together: an MO is one SMSC's, the doubt is their sum.
#pragma once

#include <string>
#include <vector>

#include "tests/bench/loadgen/scenario.hpp"
#include "tests/bench/loadgen/smsc.hpp"

namespace giftgate::bench {

struct CheckResult {
  bool ok = false;
  std::vector<std::string> lines;  // key=value lines for the report
};

CheckResult check_database(const std::string& path, const Scenario& scenario,
                           const std::vector<const Smsc*>& smscs);

// A backup taken under load: the copy at `path` has an inbox row for every
// MO acknowledged before it began (acked_before, per SMSC by index into its
// mos), counted per sender and text. The line says how many were looked
// for and missing.
CheckResult check_backup(const std::string& path, const std::vector<const Smsc*>& smscs,
                         const std::vector<std::vector<bool>>& acked_before);

// Outbound messages not yet in a final state (queued or submitted); -1 if
// the database cannot be read.
long open_messages(const std::string& path);

}  // namespace giftgate::bench
