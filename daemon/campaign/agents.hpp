// The service desk's agents: their accounts (giftctl agent add), their
// passwords, their sign-ins to the console and their sessions. What an
// agent and a supervisor may each do is written here, once, for every
// channel that asks.
//
// The contract:
// - A password is kept only as a slow KDF's output (scrypt, from OpenSSL:
//   "scrypt$N$r$p$SALT$HASH", base64), never as text, never in a log or an
//   event. Checking one costs about a tenth of a second on purpose: that is
//   why sign-in is two steps (credential() then finish_sign_in()), so the
//   caller can run password_matches() off the gateway's thread.
// - A name that is no agent costs the same as one that is: credential()
//   hands back a dummy hash to check against, and the answer is the same
//   "wrong name or password".
// - After `max_failures` wrong passwords in a row an account is locked for
//   `lock`; while locked, even the right password is refused (and does not
//   count). A right password resets the count.
// - A session is a random token (32 bytes, base64url) the browser holds in
//   a cookie; only its SHA-256 is stored. It ends at sign-out, after `idle`
//   with no request, after `absolute` in any case, and when the agent is
//   disabled. Each session has its own CSRF token (random, 32 bytes) every
//   change must carry.
// - Every change (added, disabled, password set, signed in, locked) is an
//   event in the history, named by who did it; never with a password or token.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

enum class AgentRole { agent, supervisor };
std::string_view to_string(AgentRole role);
std::optional<AgentRole> parse_agent_role(std::string_view text);

// What the desk does to a member or voucher.
enum class DeskAction {
  look,            // search, member and voucher pages, the dashboard
  resend,          // a voucher's SMS again
  void_voucher,    // void an unused voucher (refund or not)
  redeem,          // redeem on the member's behalf
  complaint,       // open, note, close a complaint
  reinstate,       // make a wrongly used voucher usable again
  correct_points,  // add or take points by hand
};

// Whether `role` may do `action`: supervisors alone reinstate and correct
// points; everything else is every agent's.
bool may(AgentRole role, DeskAction action);

// scrypt of `password` with a fresh random salt, as stored. nullopt when
// OpenSSL fails (its random generator or the KDF).
std::optional<std::string> hash_password(std::string_view password);
// Whether `password` is the one `stored` was made from (constant time in
// the hash's bytes); false for a stored value that is not a hash.
bool password_matches(std::string_view password, std::string_view stored);
// Why `password` is too weak to set (shorter than 10 characters, or the
// agent's own name in it), or nullopt.
std::optional<std::string> weak_password(std::string_view password, std::string_view name);

// Lock-out and session lengths (console.* in giftgate.yaml).
using SignInPolicy = ConsoleSettings;

struct Agent {
  std::int64_t id = 0;
  std::string name;
  AgentRole role = AgentRole::agent;
  bool disabled = false;
  std::string created_at;
  int failures = 0;                  // wrong passwords in a row
  std::optional<std::string> locked_until;
  std::optional<std::string> last_sign_in;
};

// A signed-in agent, as each request finds it.
struct AgentSession {
  std::int64_t agent_id = 0;
  std::string name;
  AgentRole role = AgentRole::agent;
  std::string csrf;      // the token every change must carry
  std::string language;  // "en" or "zh", as the agent chose
};

class Agents {
 public:
  explicit Agents(db::Database& db) : db_(db) {}

  enum class Result { ok, exists, unknown, invalid, weak_password, failed };

  // A new account. Names: 1 to 32 of a-z 0-9 . _ - (case folded to lower).
  Result add(std::string_view name, AgentRole role, std::string_view password, const Actor& actor,
             Time now);
  // A new password (an operator's reset): also lifts a lock-out and ends
  // the agent's sessions.
  Result set_password(std::string_view name, std::string_view password, const Actor& actor, Time now);
  // Disabled agents cannot sign in; their sessions end at once.
  Result set_disabled(std::string_view name, bool disabled, std::string_view reason,
                      const Actor& actor, Time now);
  // Every agent, by name; nullopt with *error when the database failed.
  std::optional<std::vector<Agent>> list(std::string* error);

  // Sign-in, step 1 (on the database's thread): what to check the password
  // against. For an unknown or disabled name agent_id is 0 and hash a dummy.
  struct Credential {
    std::int64_t agent_id = 0;
    std::string name;
    std::string hash;
    std::optional<Time> locked_until;  // set: refuse without checking
  };
  // nullopt with *status not ok when the database failed.
  std::optional<Credential> credential(std::string_view name, Time now, db::Status* status);

  // Sign-in, step 2: the verdict of password_matches() recorded. On a right
  // password a new session (token for the cookie; language "en" until the
  // agent picks); a wrong one counts, and locks at max_failures.
  struct SignIn {
    enum class Status { signed_in, wrong, locked, failed } status = Status::failed;
    std::string token;           // signed_in: the cookie's value (shown once)
    AgentSession session;        // signed_in
    std::optional<Time> locked_until;  // locked
  };
  SignIn finish_sign_in(const Credential& credential, bool password_ok, std::string_view address,
                        const SignInPolicy& policy, Time now);

  // The session a cookie's token names, if it is live; its last-seen time
  // moves on (written at most once a minute). nullopt with *status ok when
  // there is none (or it expired), with *status not ok when the database failed.
  std::optional<AgentSession> session(std::string_view token, const SignInPolicy& policy, Time now,
                                      db::Status* status);
  // Sign-out: the session ends (false: there was none, or the database failed).
  bool end_session(std::string_view token, Time now);
  // The agent's language for this session and the next ones ("en" or "zh").
  bool set_language(std::string_view token, std::string_view language);
  // Deletes sessions past their idle or absolute end; how many.
  std::optional<std::int64_t> prune(const SignInPolicy& policy, Time now);

  // Why the last call that failed or refused did (for giftctl's messages).
  const std::string& last_error() const { return last_error_; }

 private:
  db::Database& db_;
  std::string last_error_;
};

}  // namespace giftgate
