// The HTTP API's clients: one key per terminal, desk, points system or
// website, made by an operator (giftctl api-key create), shown once and
// kept only as a hash. A key is read from the database on every request,
// so a revocation holds from the next one. Knows nothing of HTTP.
//
// A key's secret is "ggk_<id>_<43 characters of base64url>": the id finds
// the row, 32 random bytes (OpenSSL's RAND_bytes) make it unguessable, and
// only the SHA-256 of their text is stored. A slow KDF would add nothing against
// guessing 256 random bits and would cost every request; the hashes are
// compared in constant time (CRYPTO_memcmp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// What a key may do (giftgate-api(7) lists the routes of each).
enum class ApiRole { merchant, desk, points, web };
std::string_view role_name(ApiRole role);
// "merchant", "desk", "points", "web"; nullopt for anything else.
std::optional<ApiRole> parse_role(std::string_view name);

struct ApiKey {
  std::int64_t id = 0;
  std::string name;
  ApiRole role = ApiRole::desk;
  std::string merchant_id;  // merchant role only
  std::string created_at, created_by;
  std::string revoked_at;   // empty: in force
  std::string last_used_at;
};

class ApiKeys {
 public:
  explicit ApiKeys(db::Database& db) : db_(db) {}

  struct Created {
    enum class Status {
      created,
      exists,            // a key of that name already (revoked ones included)
      unknown_merchant,  // --merchant names no merchant
      invalid,           // a name that is not 1-40 of [A-Za-z0-9._-]; merchant role without
                         // a merchant, or a merchant for another role
      failed,
    };
    Status status = Status::failed;
    std::string secret;  // the whole key, to show once; never stored, never logged
    ApiKey key;
    std::string error;
  };
  // Makes a key; recorded in the history (api_key_created) with the actor.
  Created create(std::string_view name, ApiRole role, std::string_view merchant_id,
                 const Actor& actor, Time now);

  // Every key, revoked ones included, by name; nullopt when the database failed.
  std::optional<std::vector<ApiKey>> list();

  // Revokes a key in force (wrong_state when already revoked, unknown_code
  // when there is none of that name, invalid without a reason); recorded.
  AdminResult revoke(std::string_view name, std::string_view reason, const Actor& actor,
                     Time now);

  enum class Check {
    ok,
    unknown,  // not a key's form, no such key, or the secret does not match
    revoked,
    failed,   // the database could not say: answer as busy, never as unknown
  };
  // The key whose secret was presented (the Authorization header's bearer
  // token). Its last_used_at is not written here (that would make every
  // read a write): see touch().
  Check authenticate(std::string_view presented, ApiKey* key, db::Status* status);
  // Notes the key's last use (at most once a minute per key is worth it:
  // the caller decides).
  db::Status touch(std::int64_t key_id, Time now);

  const std::string& last_error() const { return last_error_; }

 private:
  db::Database& db_;
  std::string last_error_;
};

}  // namespace giftgate
