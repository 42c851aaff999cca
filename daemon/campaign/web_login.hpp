// The club website's sign-in: a one-time code sent by SMS to the member's
// number, exchanged for a short-lived member token. Codes and tokens are
// kept only as hashes and never logged; codes are limited per number and
// per client address (the end user's address, as the website reports it),
// and a code is locked after too many wrong tries. Knows nothing of HTTP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/campaign/settings.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

class WebLogin {
 public:
  // service queues the code's SMS (template web_code: {code} {minutes}).
  WebLogin(db::Database& db, const WebSettings& settings, Service& service)
      : db_(db), settings_(settings), service_(service) {}

  struct CodeSent {
    enum class Status {
      sent,             // a new code is queued; the number's older open codes are replaced
      unknown_member,
      limited_number,   // web.codes_per_number_per_hour reached: retry_after
      limited_address,  // web.codes_per_address_per_hour reached: retry_after
      failed,
    };
    Status status = Status::failed;
    std::int64_t retry_after = 0;  // seconds, for the limited ones
    std::string expires_at;        // the code's, when sent
    std::string error;
  };
  // Sends a code to the member with this number (normal form), in the
  // caller's transaction (or one of its own).
  CodeSent send_code(std::string_view msisdn, std::string_view client_address,
                     std::int64_t key_id, Time now);

  struct Exchange {
    enum class Status {
      ok,          // token issued; the code is used
      wrong_code,  // counted: attempts_left more before the code is locked
      locked,      // too many wrong tries: ask for a new code
      expired,     // the latest code's time ran out
      no_code,     // none was sent to that number (or it was used already)
      failed,
    };
    Status status = Status::failed;
    std::string token;  // shown once; only its hash is stored
    std::string expires_at;
    int attempts_left = 0;
    std::string error;
  };
  // Checks the number's latest open code (constant-time compare of hashes).
  // A wrong try is committed even though the exchange fails.
  Exchange exchange(std::string_view msisdn, std::string_view code, std::int64_t key_id,
                    Time now);

  // The member a token (issued through key `key_id`, not expired) stands
  // for; nullopt with *status ok when it stands for nobody, nullopt with
  // *status failed when the database could not say.
  std::optional<Member> member_for(std::string_view token, std::int64_t key_id, Time now,
                                   db::Status* status);

  // Deletes the codes and tokens that expired more than a day ago (the
  // rate limits look back an hour only); the rows removed, or nullopt with
  // *error when the database failed.
  std::optional<std::int64_t> prune(Time now, std::string* error = nullptr);

 private:
  db::Database& db_;
  const WebSettings& settings_;
  Service& service_;
};

}  // namespace giftgate
