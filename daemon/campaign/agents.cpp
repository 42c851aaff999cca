#include "daemon/campaign/agents.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/secrets.hpp"

namespace giftgate {
namespace {

// scrypt's cost: N = 2^15, r = 8 takes 32 MiB and about a tenth of a second,
// OWASP's floor for scrypt. p = 1: the cost is in memory, not in repeats.
constexpr std::uint64_t kCostN = std::uint64_t{1} << 15;
constexpr std::uint64_t kBlockR = 8;
constexpr std::uint64_t kParallelP = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// What a check may cost at most. A stored hash is the database's, which an
// operator may restore from anywhere: its parameters are bounded so that a
// doctored row cannot make each sign-in take minutes or gigabytes.
constexpr std::uint64_t kMaxN = std::uint64_t{1} << 20;
constexpr std::uint64_t kMaxR = 32;
constexpr std::uint64_t kMaxP = 4;
constexpr std::uint64_t kMaxMemory = std::uint64_t{64} << 20;

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenChars = 43;  // base64url of 32 bytes, unpadded
constexpr std::size_t kMaxNameLength = 32;
constexpr std::size_t kMinPasswordCharacters = 10;
// A bound on what is fed to the KDF (a pasted file, a form's field).
constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr auto kTouchEvery = std::chrono::minutes(1);

// What an unknown or disabled name is checked against: the real parameters
// (so the check costs what a real one does) with a hash of zeros, which no
// password's scrypt gives. A constant rather than a hash made at start-up:
// the same cost per check, none at the first sign-in.
constexpr std::string_view kDummyHash =
    "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

constexpr std::pair<AgentRole, std::string_view> kRoles[] = {
    {AgentRole::agent, "agent"}, {AgentRole::supervisor, "supervisor"}};

// The name as stored (folded to lower case), or nullopt when it is not
// 1 to 32 of a-z 0-9 . _ -.
std::optional<std::string> folded_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return std::nullopt;
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return std::nullopt;
    out += c;
  }
  return out;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 10 || text[0] == '0') return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

bool scrypt(std::string_view password, std::span<const unsigned char> salt, std::uint64_t n,
            std::uint64_t r, std::uint64_t p, std::span<unsigned char> out) {
  return EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), n, r, p,
                        kMaxMemory, out.data(), out.size()) == 1;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Characters, not bytes: a Chinese password of 10 characters is as long as
// a Latin one (UTF-8 continuation bytes are not counted).
std::size_t characters(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool expired(const std::string& iso, std::chrono::seconds length, Time now) {
  const auto t = parse_iso_time(iso);
  return !t || *t + length <= now;  // an unreadable time ends the session
}

}  // namespace

std::string_view to_string(AgentRole role) {
  for (const auto& [r, name] : kRoles)
    if (r == role) return name;
  return "agent";
}

std::optional<AgentRole> parse_agent_role(std::string_view text) {
  for (const auto& [r, name] : kRoles)
    if (name == text) return r;
  return std::nullopt;
}

bool may(AgentRole role, DeskAction action) {
  switch (action) {
    case DeskAction::reinstate:
    case DeskAction::correct_points: return role == AgentRole::supervisor;
    case DeskAction::look:
    case DeskAction::resend:
    case DeskAction::void_voucher:
    case DeskAction::redeem:
    case DeskAction::complaint: return true;
  }
  return false;
}

std::optional<std::string> hash_password(std::string_view password) {
  std::array<unsigned char, kSaltBytes> salt{};
  std::array<unsigned char, kHashBytes> hash{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1 ||
      !scrypt(password, salt, kCostN, kBlockR, kParallelP, hash))
    return std::nullopt;
  std::string out = fmt::format("scrypt${}${}${}${}${}", kCostN, kBlockR, kParallelP,
                                to_base64url(salt), to_base64url(hash));
  OPENSSL_cleanse(hash.data(), hash.size());
  return out;
}

bool password_matches(std::string_view password, std::string_view stored) {
  // "scrypt$N$r$p$SALT$HASH"
  std::array<std::string_view, 6> parts;
  std::size_t count = 0;
  while (count < parts.size()) {
    const auto dollar = stored.find('$');
    parts[count++] = stored.substr(0, dollar);
    if (dollar == std::string_view::npos) break;
    stored.remove_prefix(dollar + 1);
    if (count == parts.size()) return false;  // a seventh part
  }
  if (count != parts.size() || parts[0] != "scrypt") return false;
  const auto n = parse_number(parts[1]);
  const auto r = parse_number(parts[2]);
  const auto p = parse_number(parts[3]);
  if (!n || !r || !p || *n < 2 || *n > kMaxN || (*n & (*n - 1)) != 0 || *r > kMaxR || *p > kMaxP)
    return false;
  const auto salt = from_base64url(parts[4]);
  const auto want = from_base64url(parts[5]);
  if (!salt || !want || salt->size() < 8 || salt->size() > 64 || want->size() < 16 ||
      want->size() > 64)
    return false;
  std::vector<unsigned char> got(want->size());
  if (!scrypt(password, *salt, *n, *r, *p, got)) return false;
  const bool same = CRYPTO_memcmp(got.data(), want->data(), got.size()) == 0;
  OPENSSL_cleanse(got.data(), got.size());
  return same;
}

std::optional<std::string> weak_password(std::string_view password, std::string_view name) {
  if (characters(password) < kMinPasswordCharacters)
    return fmt::format("a password needs at least {} characters", kMinPasswordCharacters);
  if (password.size() > kMaxPasswordBytes)
    return fmt::format("a password has at most {} bytes", kMaxPasswordBytes);
  if (!name.empty() && lower(password).find(lower(name)) != std::string::npos)
    return std::string("a password must not contain the agent's name");
  return std::nullopt;
}

Agents::Result Agents::add(std::string_view name, AgentRole role, std::string_view password,
                           const Actor& actor, Time now) {
  const auto folded = folded_name(name);
  if (!folded) {
    last_error_ = "an agent's name is 1 to 32 of a-z, 0-9, '.', '_', '-'";
    return Result::invalid;
  }
  if (auto why = weak_password(password, *folded)) {
    last_error_ = *why;
    return Result::weak_password;
  }
  const auto fail = [&](std::string why) {
    last_error_ = std::move(why);
    return Result::failed;
  };
  // Outside the transaction: a tenth of a second no writer has to wait for.
  const auto hash = hash_password(password);
  if (!hash) return fail("the password could not be hashed (OpenSSL)");

  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun().message);
  auto taken = db_.prepare("SELECT 1 FROM agents WHERE name = ?");
  switch (taken.bind(1, *folded).step()) {
    case db::StepResult::row:
      last_error_ = fmt::format("an agent named {} exists already", *folded);
      return Result::exists;
    case db::StepResult::done: break;
    case db::StepResult::error: return fail(taken.status().message);
  }
  auto insert = db_.prepare(
      "INSERT INTO agents(name, role, password_hash, created_at, created_by) "
      "VALUES (?, ?, ?, ?, ?)");
  auto s = insert.bind(1, *folded)
               .bind(2, to_string(role))
               .bind(3, *hash)
               .bind(4, iso_time(now))
               .bind(5, actor.who)
               .run();
  if (!s.ok()) {
    if (s.constraint()) {
      last_error_ = fmt::format("an agent named {} exists already", *folded);
      return Result::exists;
    }
    return fail(s.message);
  }
  s = record_event(db_, "agent_added", std::nullopt, actor,
                   fmt::format("agent {}: role {}", *folded, to_string(role)));
  if (s.ok()) s = tx.commit();
  return s.ok() ? Result::ok : fail(s.message);
}

Agents::Result Agents::set_password(std::string_view name, std::string_view password,
                                    const Actor& actor, Time now) {
  const auto folded = folded_name(name);
  if (!folded) {
    last_error_ = fmt::format("no agent {}", name);
    return Result::unknown;
  }
  if (auto why = weak_password(password, *folded)) {
    last_error_ = *why;
    return Result::weak_password;
  }
  const auto fail = [&](std::string why) {
    last_error_ = std::move(why);
    return Result::failed;
  };
  const auto hash = hash_password(password);
  if (!hash) return fail("the password could not be hashed (OpenSSL)");

  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun().message);
  auto find = db_.prepare("SELECT id FROM agents WHERE name = ?");
  switch (find.bind(1, *folded).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done:
      last_error_ = fmt::format("no agent {}", *folded);
      return Result::unknown;
    case db::StepResult::error: return fail(find.status().message);
  }
  const std::int64_t id = find.column_int(0);
  auto set = db_.prepare(
      "UPDATE agents SET password_hash = ?, failures = 0, locked_until = NULL WHERE id = ?");
  auto s = set.bind(1, *hash).bind(2, id).run();
  if (!s.ok()) return fail(s.message);
  // Whoever held the old password may hold a session made with it.
  auto end = db_.prepare("DELETE FROM console_sessions WHERE agent_id = ?");
  s = end.bind(1, id).run();
  if (!s.ok()) return fail(s.message);
  const int ended = db_.changes();
  (void)now;  // the event carries its own time
  s = record_event(db_, "agent_password_set", std::nullopt, actor,
                   fmt::format("agent {}: password set, lock-out lifted, {} session(s) ended",
                               *folded, ended));
  if (s.ok()) s = tx.commit();
  return s.ok() ? Result::ok : fail(s.message);
}

Agents::Result Agents::set_disabled(std::string_view name, bool disabled, std::string_view reason,
                                    const Actor& actor, Time now) {
  (void)now;
  const auto folded = folded_name(name);
  if (!folded) {
    last_error_ = fmt::format("no agent {}", name);
    return Result::unknown;
  }
  if (reason.empty()) {
    last_error_ = "a reason is needed";
    return Result::invalid;
  }
  const auto fail = [&](std::string why) {
    last_error_ = std::move(why);
    return Result::failed;
  };
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun().message);
  auto find = db_.prepare("SELECT id, disabled FROM agents WHERE name = ?");
  switch (find.bind(1, *folded).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done:
      last_error_ = fmt::format("no agent {}", *folded);
      return Result::unknown;
    case db::StepResult::error: return fail(find.status().message);
  }
  const std::int64_t id = find.column_int(0);
  if ((find.column_int(1) != 0) == disabled) return Result::ok;  // already so: nothing to record
  auto set = db_.prepare("UPDATE agents SET disabled = ? WHERE id = ?");
  auto s = set.bind(1, std::int64_t{disabled ? 1 : 0}).bind(2, id).run();
  if (!s.ok()) return fail(s.message);
  int ended = 0;
  if (disabled) {
    auto end = db_.prepare("DELETE FROM console_sessions WHERE agent_id = ?");
    s = end.bind(1, id).run();
    if (!s.ok()) return fail(s.message);
    ended = db_.changes();
  }
  s = record_event(db_, disabled ? "agent_disabled" : "agent_enabled", std::nullopt, actor,
                   disabled ? fmt::format("agent {}: {} ({} session(s) ended)", *folded, reason,
                                          ended)
                            : fmt::format("agent {}: {}", *folded, reason));
  if (s.ok()) s = tx.commit();
  return s.ok() ? Result::ok : fail(s.message);
}

std::optional<std::vector<Agent>> Agents::list(std::string* error) {
  auto q = db_.prepare(
      "SELECT id, name, role, disabled, created_at, failures, locked_until, last_sign_in "
      "FROM agents ORDER BY name");
  std::vector<Agent> all;
  const auto s = q.each_row([&] {
    Agent a;
    a.id = q.column_int(0);
    a.name = q.column_text(1);
    // The CHECK allows no other role.
    a.role = parse_agent_role(q.column_text(2)).value_or(AgentRole::agent);
    a.disabled = q.column_int(3) != 0;
    a.created_at = q.column_text(4);
    a.failures = static_cast<int>(q.column_int(5));
    if (!q.column_null(6)) a.locked_until = q.column_text(6);
    if (!q.column_null(7)) a.last_sign_in = q.column_text(7);
    all.push_back(std::move(a));
  });
  if (!s.ok()) {
    last_error_ = s.message;
    if (error) *error = s.message;
    return std::nullopt;
  }
  return all;
}

std::optional<Agents::Credential> Agents::credential(std::string_view name, Time now,
                                                     db::Status* status) {
  db::Status ignored;
  db::Status& st = status ? *status : ignored;
  st = {};
  Credential c;
  c.hash = std::string(kDummyHash);
  const auto folded = folded_name(name);
  if (!folded) {
    c.name = std::string(name);
    return c;
  }
  c.name = *folded;
  auto q = db_.prepare(
      "SELECT id, password_hash, disabled, locked_until FROM agents WHERE name = ?");
  switch (q.bind(1, *folded).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return c;
    case db::StepResult::error:
      st = q.status();
      last_error_ = st.message;
      return std::nullopt;
  }
  // A disabled agent is answered as a name that is none: no hint that the
  // account exists, nothing to count.
  if (q.column_int(2) != 0) return c;
  c.agent_id = q.column_int(0);
  c.hash = q.column_text(1);
  if (!q.column_null(3)) {
    const auto until = parse_iso_time(q.column_text(3));
    if (until && *until > now) c.locked_until = until;
  }
  return c;
}

Agents::SignIn Agents::finish_sign_in(const Credential& credential, bool password_ok,
                                      std::string_view address, const SignInPolicy& policy,
                                      Time now) {
  using S = SignIn::Status;
  SignIn out;
  const auto answer = [&](S status) {
    out.status = status;
    return out;
  };
  const auto fail = [&](const db::Status& s) {
    last_error_ = s.message;
    out.token.clear();
    return answer(S::failed);
  };
  if (credential.agent_id == 0) return answer(S::wrong);
  if (credential.locked_until) {
    out.locked_until = credential.locked_until;
    return answer(S::locked);
  }

  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun());
  // Read again, in the transaction: between the two steps another sign-in
  // may have locked the account, an operator disabled it or set a new password.
  auto find = db_.prepare(
      "SELECT name, role, disabled, failures, locked_until, password_hash FROM agents "
      "WHERE id = ?");
  switch (find.bind(1, credential.agent_id).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return answer(S::wrong);
    case db::StepResult::error: return fail(find.status());
  }
  const std::string name = find.column_text(0);
  const AgentRole role = parse_agent_role(find.column_text(1)).value_or(AgentRole::agent);
  if (find.column_int(2) != 0) return answer(S::wrong);
  if (!find.column_null(4)) {
    const auto until = parse_iso_time(find.column_text(4));
    if (until && *until > now) {
      out.locked_until = until;
      return answer(S::locked);  // not counted, right or wrong
    }
  }
  // A password checked against a hash that has since been replaced proves
  // nothing about the new one.
  const bool right = password_ok && find.column_text(5) == credential.hash;
  const Actor actor{"console", name};

  if (!right) {
    const std::int64_t failures = find.column_int(3) + 1;
    if (failures < policy.max_failures) {
      auto count = db_.prepare("UPDATE agents SET failures = ? WHERE id = ?");
      auto s = count.bind(1, failures).bind(2, credential.agent_id).run();
      if (s.ok()) s = tx.commit();
      return s.ok() ? answer(S::wrong) : fail(s);
    }
    // Locked: the count starts again, so that after the lock-out the agent
    // has max_failures tries again, not one.
    const Time until = now + policy.lock;
    auto lock = db_.prepare("UPDATE agents SET failures = 0, locked_until = ? WHERE id = ?");
    auto s = lock.bind(1, iso_time(until)).bind(2, credential.agent_id).run();
    if (s.ok())
      s = record_event(db_, "agent_locked", std::nullopt, actor,
                       fmt::format("agent {}: locked until {} after {} wrong passwords, the last "
                                   "from {}",
                                   name, iso_time(until), failures, address));
    if (s.ok()) s = tx.commit();
    if (!s.ok()) return fail(s);
    out.locked_until = until;
    return answer(S::locked);
  }

  const auto token = random_base64url(kTokenBytes);
  const auto csrf = random_base64url(kTokenBytes);
  const auto digest = token ? sha256(*token) : std::nullopt;
  if (!csrf || !digest) return fail({1, "no random token could be made (OpenSSL)"});
  // The language the agent chose last, from a session of theirs still kept.
  std::string language = "en";
  auto chosen = db_.prepare(
      "SELECT language FROM console_sessions WHERE agent_id = ? ORDER BY last_seen DESC LIMIT 1");
  switch (chosen.bind(1, credential.agent_id).step()) {
    case db::StepResult::row: language = chosen.column_text(0); break;
    case db::StepResult::done: break;
    case db::StepResult::error: return fail(chosen.status());
  }
  auto reset = db_.prepare(
      "UPDATE agents SET failures = 0, locked_until = NULL, last_sign_in = ? WHERE id = ?");
  auto s = reset.bind(1, iso_time(now)).bind(2, credential.agent_id).run();
  if (!s.ok()) return fail(s);
  auto insert = db_.prepare(
      "INSERT INTO console_sessions(token_hash, agent_id, csrf, language, address, created_at, "
      "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s = insert.bind_blob(1, *digest)
          .bind(2, credential.agent_id)
          .bind(3, *csrf)
          .bind(4, language)
          .bind(5, address)
          .bind(6, iso_time(now))
          .bind(7, iso_time(now))
          .run();
  if (s.ok())
    s = record_event(db_, "agent_signed_in", std::nullopt, actor,
                     fmt::format("agent {} signed in from {}", name, address));
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return fail(s);
  out.token = *token;
  out.session = AgentSession{credential.agent_id, name, role, *csrf, language};
  return answer(S::signed_in);
}

std::optional<AgentSession> Agents::session(std::string_view token, const SignInPolicy& policy,
                                            Time now, db::Status* status) {
  db::Status ignored;
  db::Status& st = status ? *status : ignored;
  st = {};
  if (!is_base64url(token, kTokenChars)) return std::nullopt;  // no such cookie was ever made
  const auto digest = sha256(token);
  if (!digest) {
    st = {1, "SHA-256 is not available (OpenSSL)"};
    last_error_ = st.message;
    return std::nullopt;
  }
  auto q = db_.prepare(
      "SELECT s.agent_id, a.name, a.role, a.disabled, s.csrf, s.language, s.created_at, "
      "s.last_seen FROM console_sessions s JOIN agents a ON a.id = s.agent_id "
      "WHERE s.token_hash = ?");
  switch (q.bind_blob(1, *digest).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return std::nullopt;
    case db::StepResult::error:
      st = q.status();
      last_error_ = st.message;
      return std::nullopt;
  }
  if (q.column_int(3) != 0) return std::nullopt;
  const std::string last_seen = q.column_text(7);
  if (expired(q.column_text(6), policy.absolute, now) || expired(last_seen, policy.idle, now))
    return std::nullopt;
  AgentSession session{q.column_int(0), q.column_text(1),
                       parse_agent_role(q.column_text(2)).value_or(AgentRole::agent),
                       q.column_text(4), q.column_text(5)};
  // At most once a minute: a page's every request need not be a write.
  const auto seen = parse_iso_time(last_seen);
  if (seen && now - *seen >= kTouchEvery) {
    auto touch = db_.prepare("UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?");
    const auto s = touch.bind(1, iso_time(now)).bind_blob(2, *digest).run();
    if (!s.ok()) {
      st = s;
      last_error_ = s.message;
      return std::nullopt;
    }
  }
  return session;
}

bool Agents::end_session(std::string_view token, Time now) {
  (void)now;
  if (!is_base64url(token, kTokenChars)) return false;
  const auto digest = sha256(token);
  if (!digest) return false;
  auto end = db_.prepare("DELETE FROM console_sessions WHERE token_hash = ?");
  const auto s = end.bind_blob(1, *digest).run();
  if (!s.ok()) {
    last_error_ = s.message;
    return false;
  }
  return db_.changes() == 1;
}

bool Agents::set_language(std::string_view token, std::string_view language) {
  if (language != "en" && language != "zh") return false;
  if (!is_base64url(token, kTokenChars)) return false;
  const auto digest = sha256(token);
  if (!digest) return false;
  // Every session of the agent's: the newest is where the next sign-in
  // finds the choice.
  auto set = db_.prepare(
      "UPDATE console_sessions SET language = ? WHERE agent_id = "
      "(SELECT agent_id FROM console_sessions WHERE token_hash = ?)");
  const auto s = set.bind(1, language).bind_blob(2, *digest).run();
  if (!s.ok()) {
    last_error_ = s.message;
    return false;
  }
  return db_.changes() >= 1;
}

std::optional<std::int64_t> Agents::prune(const SignInPolicy& policy, Time now) {
  auto drop = db_.prepare(
      "DELETE FROM console_sessions WHERE last_seen <= ? OR created_at <= ? OR agent_id IN "
      "(SELECT id FROM agents WHERE disabled = 1)");
  const auto s = drop.bind(1, iso_time(now - policy.idle))
                     .bind(2, iso_time(now - policy.absolute))
                     .run();
  if (!s.ok()) {
    last_error_ = s.message;
    return std::nullopt;
  }
  return db_.changes();
}

}  // namespace giftgate
