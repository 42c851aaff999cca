// The outbox: every outbound SMS (and USSD screen) from queued to exactly one final state,
// delivered, failed (after the allowed attempts) or expired, also across
// restarts, since every step is a committed row. The daemon takes what is
// due, by priority and fairly between numbers, submits it, and reports back
// the SMSC's answers and receipts; the outbox decides on resends. Knows
// nothing of PDUs; an SMSC is only an id to it.
//
// A message of several parts is tracked part by part: a row per part and
// attempt, written when the part is sent. An attempt fails when one of its
// parts fails (refused, no answer, a failure receipt, no receipt in time);
// the resend carries only the parts that failed, never one the handset
// already has or whose receipt is still awaited. The message is delivered
// when every part is.
//
// Several SMSCs:
// - Each part's row names the SMSC it was handed to (sending). Message ids
//   are unique per SMSC only: a receipt applies to a part with its id from
//   its own SMSC, or from none (rows written before SMSCs were recorded);
//   an early receipt is claimed only by a part of its own SMSC (or either
//   names none).
// - A part that was never written to any SMSC (submit_returned: its
//   connection went away with the submit still queued) is no attempt: when
//   every part the attempt sent comes back so, the attempt is undone (its
//   rows deleted, the message queued again at once with its attempts as
//   before), so failing over to another SMSC costs none of max_attempts.
//   Once any part of the attempt was written, it is an attempt as ever.
// - A message caused by an MO carries the MO's route; a USSD screen with a
//   route is taken only while that route is open (take_due), since its
//   answer must go back through the SMSC, or the bind, the step came on.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/storage/sqlite.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

// The outbox's priorities: lower goes first. Within one, messages go in the
// order of their fair_at (see Service::queue), not of their arrival.
constexpr std::int64_t kPriorityUssd = 0;   // a USSD screen: the member is waiting on it
constexpr std::int64_t kPriorityReply = 1;  // replies and voucher SMS
constexpr std::int64_t kPriorityBulk = 2;   // what no one is waiting for (pushes)

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
  // Parts (numbered from 1) an earlier attempt got to the handset or whose
  // receipt is still awaited: not sent again. Empty on a first attempt.
  std::vector<int> skip_parts;
  int parts_before = 0;  // the number of parts earlier attempts had (0: none)
  // Where the MO that caused it came from ("SMSCID" or "SMSCID#BIND"; see
  // Mo::route); empty when no MO did.
  std::string route;
  std::int64_t priority = kPriorityReply;  // the outbox's: bulk goes behind replies at the SMSC too
};

// The SMSC's id for one part, in its one or two readings (an id of digits
// only may be decimal or hexadecimal until the SMSC's format is known; see
// smpp::IdReadings).
struct MessageIds {
  std::string id;
  std::string alt;  // the other reading, or empty
  MessageIds(std::string first = {}, std::string second = {})
      : id(std::move(first)), alt(std::move(second)) {}
  MessageIds(const char* first) : id(first) {}
};

// A delivery receipt as the daemon read it.
struct ReceiptReport {
  MessageIds ids;
  // The original recipient (the receipt's source address), normal form; the
  // receipt applies only to a message to this number. nullopt: not checked.
  std::optional<std::string> recipient;
  std::string stat;    // DELIVRD, UNDELIV, ...
  std::string error;   // err:, three digits
  std::string detail;  // the failure reason and network error code, if any
  // The SMSC it came from: applied only to a part handed to that SMSC (or
  // to one whose SMSC was not recorded). Empty: any SMSC's part. (With {},
  // so that a brace list that ends before it need not name it.)
  std::string smsc{};
};

struct OutboxCounts {
  std::int64_t queued = 0, submitted = 0, delivered = 0, failed = 0, expired = 0;
};

class Outbox {
 public:
  // The status recorded for a part that got no answer from the SMSC (in
  // doubt, or cut off by a restart).
  static constexpr std::int64_t kNoAnswer = -1;
  // The status recorded for a part never written to any SMSC
  // (submit_returned). It failed; when all of an attempt's parts are so,
  // the attempt is undone.
  static constexpr std::int64_t kNotSent = -2;

  // When the next attempt of a message whose attempt failed is due.
  enum class Retry {
    backoff,  // after the policy's delay, doubled each attempt
    at_once,  // now: the answer was lost on one SMSC and another can take the resend
  };

  Outbox(db::Database& db, ResendPolicy policy) : db_(db), policy_(policy) {}
  // A reload's policy, for the attempts and receipts from now on.
  void set_policy(ResendPolicy policy) { policy_ = policy; }

  // Up to `limit` messages due now, by priority and then fair_at (so USSD
  // screens first, and one number's backlog after everyone's first
  // message), each moved to submitted with its attempt counted (committed
  // before anything is sent). USSD screens whose session is over are left
  // for the sweep to expire. With `open_routes` (the routes bound now, "ID"
  // and "ID#N"), a USSD screen with a route is taken only when its route is
  // one of them, and otherwise waits (or expires); everything else is taken
  // as without.
  // At most `bulk_limit` of them of priority bulk (pushes and reminders get
  // what replies leave; 0: none, as in the quiet hours).
  std::vector<Outbound> take_due(Time now, std::size_t limit,
                                 const std::vector<std::string>* open_routes = nullptr,
                                 std::size_t bulk_limit = SIZE_MAX);

  // One part of an attempt is handed to the SMSC `smsc` (empty: not
  // recorded) now: in flight until its answer. Written before it is sent,
  // in the transaction of take_due when the caller has one open.
  db::Status sending(std::int64_t id, int attempt, int part, int total, Time now,
                     const std::string& smsc = {});

  // The SMSC's answer to one part's submit_sm: its message id, or an error
  // status (kNoAnswer: none came). A receipt that came before this answer is
  // matched now. `detail`: what the answer's optional parameters said.
  db::Status submitted(std::int64_t id, int attempt, int part, int total, const MessageIds& ids,
                       Time now, const std::string& detail = {});
  // A part refused (`status`) or unanswered (kNoAnswer): it failed. When
  // this ends the attempt, `retry` says when the next is due (the retry of
  // whichever report ends an attempt decides); the attempt counts either way.
  db::Status submit_failed(std::int64_t id, int attempt, int part, int total,
                           std::int64_t status, const std::string& why, Time now,
                           const std::string& detail = {}, Retry retry = Retry::backoff);
  // A part that was never written to any SMSC (its connection went away
  // while its submit waited): recorded as kNotSent. When no part of the
  // attempt is in flight and all it sent were returned so, the attempt is
  // undone and the message due again now, `why` its last error; otherwise
  // the part failed, as a refused one, the next attempt due as `retry`
  // says when this report ends the attempt (at_once: another SMSC can take
  // what its connection lost).
  db::Status submit_returned(std::int64_t id, int attempt, int part, int total,
                             const std::string& why, Time now, Retry retry = Retry::backoff);

  // A delivery receipt. Only parts of its SMSC count (see ReceiptReport::smsc).
  // It is stored in any case, with its SMSC and its outcome:
  //   applied          to the one part with its id and recipient;
  //   early            no part has its id yet: it waits for the submit's answer
  //                    (see sweep for those nothing claims);
  //   wrong_recipient  parts have its id, but none was sent to its recipient;
  //   ambiguous        several parts could be meant: applied to none;
  //   failed           the database refused and nothing was stored (do not
  //                    acknowledge it).
  enum class ReceiptMatch { applied, early, wrong_recipient, ambiguous, failed };
  ReceiptMatch receipt(const ReceiptReport& report, Time now);

  struct Swept {
    int overdue = 0;  // messages moved on for want of a receipt
    // Receipts that waited longer than the early window with nothing
    // claiming them: now unmatched (their message ids).
    std::vector<std::string> unclaimed;
  };
  // Parts with no final receipt for longer than receipt_timeout fail their
  // attempt (resent, or failed after the last attempt); USSD screens not sent
  // before their session ended are expired; receipts early for longer than
  // `early_window` become unmatched.
  Swept sweep(Time now, std::chrono::seconds early_window = std::chrono::seconds(60));

  // After a restart: parts cut off before the SMSC's answer fail their
  // attempt, and are due again at once (those may reach the member twice).
  int recover(Time now);

  // An operator's resend of a message (by outbox id) or of the message that
  // carries a voucher code: queued again, whatever its state, every part.
  struct Resent {
    // body_pruned: retention blanked its text; sent again it would be empty.
    enum class Status { queued, not_found, failed, body_pruned };
    Status status = Status::failed;
    std::int64_t id = 0;  // the message queued again
    std::string error;    // the database's message when failed
  };
  Resent resend(const std::string& id_or_code, const Actor& actor, Time now);

  // The messages in each state; nullopt when the database failed.
  std::optional<OutboxCounts> counts();

 private:
  // Where one message's parts stand (see outbox.cpp).
  struct Parts;
  Parts parts_of(std::int64_t id, int since_attempt, db::Status& status);
  // Moves a message on from its parts: delivered when all are; when none is
  // in flight and one failed, its attempt undone (every part of it
  // returned unwritten) or failed (for `why`, next due as `retry` says).
  db::Status settle(std::int64_t id, const std::string& why, bool expired, Time now,
                    Retry retry = Retry::backoff);
  db::Status attempt_failed(std::int64_t id, int attempt, const std::string& why, bool expired,
                            Time now, Retry retry = Retry::backoff);
  db::Status attempt_undone(std::int64_t id, int attempt, const std::string& why, Time now);
  db::Status apply_receipt(std::int64_t id, int attempt, int part, const std::string& stat,
                           const std::string& error, const std::string& detail, Time now);

  db::Database& db_;
  ResendPolicy policy_;
};

}  // namespace giftgate
