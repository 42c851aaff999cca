#include "daemon/campaign/api_keys.hpp"

#include <charconv>

#include <fmt/format.h>

#include "daemon/campaign/secrets.hpp"

namespace giftgate {
namespace {

constexpr std::string_view kPrefix = "ggk_";
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded

constexpr ApiRole kRoles[] = {ApiRole::merchant, ApiRole::desk, ApiRole::points, ApiRole::web};

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

// "ggk_<id>_<secret>" split into its id and secret; nullopt for anything
// else (an id of leading zeros or past int64 included).
struct Presented {
  std::int64_t id = 0;
  std::string_view secret;
};
std::optional<Presented> parse_presented(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  const auto underscore = text.find('_');
  if (underscore == std::string_view::npos || underscore == 0 || text[0] == '0')
    return std::nullopt;
  Presented p;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + underscore, p.id);
  if (ec != std::errc() || end != text.data() + underscore || p.id <= 0) return std::nullopt;
  p.secret = text.substr(underscore + 1);
  if (!is_base64url(p.secret, kSecretChars)) return std::nullopt;
  return p;
}

ApiKey key_from(const db::Statement& q) {
  ApiKey k;
  k.id = q.column_int(0);
  k.name = q.column_text(1);
  k.role = parse_role(q.column_text(2)).value_or(ApiRole::desk);  // the CHECK allows no other
  k.merchant_id = q.column_text(3);
  k.created_at = q.column_text(4);
  k.created_by = q.column_text(5);
  k.revoked_at = q.column_text(6);
  k.last_used_at = q.column_text(7);
  return k;
}

constexpr const char* kKeyColumns =
    "id, name, role, COALESCE(merchant_id, ''), created_at, created_by, "
    "COALESCE(revoked_at, ''), COALESCE(last_used_at, '')";

}  // namespace

std::string_view role_name(ApiRole role) {
  switch (role) {
    case ApiRole::merchant: return "merchant";
    case ApiRole::desk: return "desk";
    case ApiRole::points: return "points";
    case ApiRole::web: return "web";
  }
  return "desk";
}

std::optional<ApiRole> parse_role(std::string_view name) {
  for (ApiRole r : kRoles)
    if (role_name(r) == name) return r;
  return std::nullopt;
}

ApiKeys::Created ApiKeys::create(std::string_view name, ApiRole role,
                                 std::string_view merchant_id, const Actor& actor, Time now) {
  using S = Created::Status;
  Created out;
  const auto refuse = [&](S status, std::string error) {
    out.status = status;
    out.error = std::move(error);
    out.secret.clear();
    last_error_ = out.error;
    return out;
  };
  if (!valid_name(name))
    return refuse(S::invalid, "a key's name is 1 to 40 of A-Z, a-z, 0-9, '.', '_', '-'");
  if (role == ApiRole::merchant && merchant_id.empty())
    return refuse(S::invalid, "a merchant key needs its merchant (--merchant ID)");
  if (role != ApiRole::merchant && !merchant_id.empty())
    return refuse(S::invalid, fmt::format("only a merchant key has a merchant, not a {} key",
                                          role_name(role)));

  db::Transaction tx(db_);
  if (!tx.begun().ok()) return refuse(S::failed, tx.begun().message);
  if (role == ApiRole::merchant) {
    auto merchant = db_.prepare("SELECT 1 FROM merchants WHERE id = ?");
    switch (merchant.bind(1, merchant_id).step()) {
      case db::StepResult::row: break;
      case db::StepResult::done:
        return refuse(S::unknown_merchant, fmt::format("no merchant {}", merchant_id));
      case db::StepResult::error: return refuse(S::failed, merchant.status().message);
    }
  }
  auto taken = db_.prepare("SELECT 1 FROM api_keys WHERE name = ?");
  switch (taken.bind(1, name).step()) {
    case db::StepResult::row:
      return refuse(S::exists, fmt::format("a key named {} exists already (revoked keys keep "
                                           "their names)",
                                           name));
    case db::StepResult::done: break;
    case db::StepResult::error: return refuse(S::failed, taken.status().message);
  }

  const auto secret = random_base64url(kSecretBytes);
  const auto digest = secret ? sha256(*secret) : std::nullopt;
  if (!digest) return refuse(S::failed, "no random secret could be made (OpenSSL)");

  out.key.name = std::string(name);
  out.key.role = role;
  out.key.merchant_id = std::string(merchant_id);
  out.key.created_at = iso_time(now);
  out.key.created_by = actor.who;
  auto insert = db_.prepare(
      "INSERT INTO api_keys(name, role, merchant_id, secret_hash, created_at, created_by) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, name).bind(2, role_name(role));
  if (role == ApiRole::merchant) insert.bind(3, merchant_id);
  else insert.bind(3, std::nullopt);
  auto s = insert.bind_blob(4, *digest).bind(5, out.key.created_at).bind(6, out.key.created_by).run();
  if (!s.ok()) return refuse(s.constraint() ? S::exists : S::failed, s.message);
  out.key.id = db_.last_insert_id();
  s = record_event(db_, "api_key_created", std::nullopt, actor,
                   role == ApiRole::merchant
                       ? fmt::format("api key {}: role merchant, merchant {}", name, merchant_id)
                       : fmt::format("api key {}: role {}", name, role_name(role)));
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return refuse(S::failed, s.message);
  out.status = S::created;
  out.secret = fmt::format("{}{}_{}", kPrefix, out.key.id, *secret);
  return out;
}

std::optional<std::vector<ApiKey>> ApiKeys::list() {
  auto q = db_.prepare(fmt::format("SELECT {} FROM api_keys ORDER BY name", kKeyColumns));
  std::vector<ApiKey> keys;
  const auto s = q.each_row([&] { keys.push_back(key_from(q)); });
  if (!s.ok()) {
    last_error_ = s.message;
    return std::nullopt;
  }
  return keys;
}

AdminResult ApiKeys::revoke(std::string_view name, std::string_view reason, const Actor& actor,
                            Time now) {
  if (reason.empty()) return AdminResult::invalid;
  const auto fail = [&](const db::Status& s) {
    last_error_ = s.message;
    return AdminResult::failed;
  };
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return fail(tx.begun());
  auto find = db_.prepare("SELECT role, revoked_at IS NOT NULL FROM api_keys WHERE name = ?");
  switch (find.bind(1, name).step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return AdminResult::unknown_code;
    case db::StepResult::error: return fail(find.status());
  }
  if (find.column_int(1) != 0) return AdminResult::wrong_state;
  const std::string role = find.column_text(0);
  auto set = db_.prepare(
      "UPDATE api_keys SET revoked_at = ?, revoked_by = ?, revoke_reason = ? "
      "WHERE name = ? AND revoked_at IS NULL");
  auto s = set.bind(1, iso_time(now)).bind(2, actor.who).bind(3, reason).bind(4, name).run();
  if (!s.ok()) return fail(s);
  if (db_.changes() != 1) return AdminResult::wrong_state;
  s = record_event(db_, "api_key_revoked", std::nullopt, actor,
                   fmt::format("api key {} (role {}): {}", name, role, reason));
  if (s.ok()) s = tx.commit();
  return s.ok() ? AdminResult::ok : fail(s);
}

ApiKeys::Check ApiKeys::authenticate(std::string_view presented, ApiKey* key,
                                     db::Status* status) {
  db::Status ignored;
  db::Status& st = status ? *status : ignored;
  st = {};
  const auto p = parse_presented(presented);
  if (!p) return Check::unknown;  // the form is public: no secret to time
  const auto digest = sha256(p->secret);
  if (!digest) {
    st = {1, "SHA-256 is not available (OpenSSL)"};
    last_error_ = st.message;
    return Check::failed;
  }
  auto q = db_.prepare(
      fmt::format("SELECT {}, secret_hash FROM api_keys WHERE id = ?", kKeyColumns));
  const auto found = q.bind(1, p->id).step();
  if (found == db::StepResult::error) {
    st = q.status();
    last_error_ = st.message;
    return Check::failed;
  }
  // An id that names no key is compared all the same, against a hash no
  // secret has (same_digest compares an empty value against zeros), so
  // that the time taken does not tell which ids exist.
  const std::vector<unsigned char> stored =
      found == db::StepResult::row ? q.column_blob(8) : std::vector<unsigned char>();
  if (!same_digest(stored, *digest) || found != db::StepResult::row) return Check::unknown;
  ApiKey k = key_from(q);
  const bool revoked = !k.revoked_at.empty();
  if (key) *key = std::move(k);
  return revoked ? Check::revoked : Check::ok;
}

db::Status ApiKeys::touch(std::int64_t key_id, Time now) {
  auto set = db_.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?");
  const auto s = set.bind(1, iso_time(now)).bind(2, key_id).run();
  if (!s.ok()) last_error_ = s.message;
  return s;
}

}  // namespace giftgate
