// The outbox: every outbound SMS (and USSD screen) from queued to exactly one final state,
// delivered, failed (after the allowed attempts) or expired, also across
// restarts, since every step is a committed row. The daemon takes what is
// due, submits it, and reports back the SMSC's answers and receipts; the
// outbox decides on resends. Knows nothing of PDUs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/sqlite.hpp"
#include "daemon/vouchers.hpp"

namespace giftgate {

struct ResendPolicy {
  int max_attempts = 3;                        // submits per message, the first included
  std::chrono::seconds first_delay{60};        // before the second attempt; doubles after
  std::chrono::seconds receipt_timeout{600};   // no receipt this long after a submit: resend
};

struct Outbound {
  std::int64_t id = 0;
  std::string msisdn;
  std::string body;
  int attempt = 0;  // this attempt's number, from 1
  // A USSD screen: the operation and the session to answer
  // (smpp::ussd_session_text); an SMS has none.
  std::optional<std::uint8_t> ussd_op;
  std::string ussd_session;
};

struct OutboxCounts {
  std::int64_t queued = 0, submitted = 0, delivered = 0, failed = 0, expired = 0;
};

class Outbox {
 public:
  Outbox(db::Database& db, ResendPolicy policy) : db_(db), policy_(policy) {}

  // Up to `limit` messages due now, oldest first, each moved to submitted
  // with its attempt counted (committed before anything is sent). USSD
  // screens whose session is over are left for the sweep to expire.
  std::vector<Outbound> take_due(Time now, std::size_t limit);

  // The SMSC's answer to one part's submit_sm: its message id, or an error
  // status (then the attempt failed: resent later or failed for good).
  // A receipt that came before this answer is matched now.
  db::Status submitted(std::int64_t id, int attempt, int part, int total,
                       const std::string& message_id, Time now);
  db::Status submit_failed(std::int64_t id, int attempt, int part, int total,
                           std::uint32_t status, const std::string& why, Time now);

  // A delivery receipt: stat as in the receipt (DELIVRD, UNDELIV, ...). It
  // is stored in any case, matched to a part or not (yet); failed: the
  // database refused and nothing was stored (do not acknowledge it).
  enum class Receipt { matched, unmatched, failed };
  Receipt receipt(const std::string& message_id, const std::string& stat, const std::string& error,
                  Time now);

  // Attempts with no final receipt for longer than receipt_timeout: resent,
  // or failed after the last attempt. Returns how many were moved. USSD
  // screens not sent before their session ended are expired.
  int sweep(Time now);

  // After a restart: attempts cut off before every part had the SMSC's
  // answer are due again at once (those may reach the member twice).
  int recover(Time now);

  // An operator's resend of a message (by outbox id) or of the message that
  // carries a voucher code: queued again, whatever its state.
  std::optional<std::int64_t> resend(const std::string& id_or_code, const std::string& actor,
                                     Time now);

  OutboxCounts counts();

 private:
  db::Status attempt_failed(std::int64_t id, int attempt, const std::string& why, bool expired,
                            Time now);
  db::Status check_delivered(std::int64_t id, int attempt, int total, Time now);
  db::Status apply_receipt(std::int64_t id, int attempt, int part, int total,
                           const std::string& stat, const std::string& error, Time now);

  db::Database& db_;
  ResendPolicy policy_;
};

}  // namespace giftgate
