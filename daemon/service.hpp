// The campaign's answer to one member's or merchant's SMS: reads the
// request, does what it asks (balance, redeem, confirm, vouchers,
// merchants, opt out or in, verify), and queues the replies in the outbox,
// all in one transaction. The caller acknowledges the MO to the SMSC only
// after handle() has returned done or duplicate: then the MO and all it
// caused are on disk. Knows nothing of PDUs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config.hpp"
#include "daemon/sqlite.hpp"
#include "daemon/templates.hpp"
#include "daemon/vouchers.hpp"

namespace giftgate {

struct Mo {
  std::string key;     // the same for a redelivery of this MO (see mo_key)
  std::string msisdn;  // the sender, normal form
  std::string text;    // UTF-8, reassembled
  std::string channel = "sms";
  Time now{};
};

struct MoOutcome {
  enum class Status {
    done,       // handled and committed: acknowledge
    duplicate,  // handled before: acknowledge, nothing changed
    failed,     // nothing committed (database busy or full): do not acknowledge
  };
  Status status = Status::failed;
  Command command = Command::help;
  std::vector<std::int64_t> replies;  // outbox ids queued
  std::vector<std::string> messages;  // their template names (for metrics)
  std::string error;
};

// A key for an MO: the sender, the receiving address and the text, within
// a time slot of `window` seconds. An SMSC that redelivers (its response was
// lost) sends the same three within seconds; a member who sends the same
// text again much later gets a new key.
std::string mo_key(const std::string& msisdn, const std::string& destination,
                   const std::string& text, Time received, int window_seconds);

class Service {
 public:
  Service(db::Database& db, const Config& config, std::shared_ptr<const Templates> templates);

  MoOutcome handle(const Mo& mo);

  // New templates (reload): queued messages keep the text they were given.
  void set_templates(std::shared_ptr<const Templates> templates) { templates_ = std::move(templates); }

  // "2026-12-25 13:26" in the campaign's zone, as members read times.
  std::string local_time(Time t) const;
  std::string local_time(const std::string& iso) const;

 private:
  struct Reply {
    std::string msisdn;
    std::optional<std::int64_t> member_id;
    std::string message;
    std::string language;
    TemplateValues values;
    std::optional<std::string> voucher_code;
  };
  std::vector<Reply> answer(const Mo& mo, const Request& request, bool& failed,
                            std::string& error);
  std::string tiers_list(const std::string& language) const;
  // `values` plus the list placeholder filled with as many of `lines` as fit
  // in the configured SMS parts.
  TemplateValues fit_list(const std::string& message, const std::string& language,
                          TemplateValues values, const std::string& list_name,
                          const std::vector<std::string>& lines) const;

  db::Database& db_;
  const Config& config_;
  std::shared_ptr<const Templates> templates_;
  Vouchers vouchers_;
};

}  // namespace giftgate
