// giftctl api-key: the HTTP API's clients (daemon/campaign/api_keys.hpp).
// create shows the new key once, on standard output only, and nowhere
// else: not in the history, not in --output files, not in any message.
#include <chrono>

#include "daemon/campaign/api_keys.hpp"
#include "daemon/campaign/calendar.hpp"
#include "daemon/giftctl/giftctl.hpp"

namespace giftgate::ctl {
namespace {

Time now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// A stored time on the campaign's clocks, for the table; empty stays empty.
std::string local(const std::string& iso, const std::string& zone) {
  if (iso.empty()) return "";
  const auto t = parse_iso_time(iso);
  return t ? format_local_time(zone, *t) : iso;
}

}  // namespace

int Ctl::api_key() {
  const std::string sub = args_.words.size() > 1 ? args_.words[1] : "";
  ApiKeys keys(*db_);

  if (sub == "create" && args_.words.size() == 3) {
    const std::string& name = args_.words[2];
    if (!has("role")) return usage("api-key create needs --role merchant|desk|points|web");
    const auto role = parse_role(option("role"));
    if (!role)
      return usage(fmt::format("--role '{}' is none of merchant, desk, points, web",
                               option("role")));
    const auto c = keys.create(name, *role, option("merchant"), actor(), now_seconds());
    using S = ApiKeys::Created::Status;
    switch (c.status) {
      case S::created:
        fmt::print("api key {} created (role {}{})\n{}\n"
                   "This key is shown only now: giftgate keeps only its hash. Give it to the "
                   "client now; if it is lost, revoke it and create another.\n",
                   escape_text(name), role_name(*role),
                   c.key.merchant_id.empty() ? "" : ", merchant " + escape_text(c.key.merchant_id),
                   c.secret);
        return kOk;
      case S::invalid: return usage(c.error);
      case S::exists:
      case S::unknown_merchant: return refused(c.error);
      case S::failed: break;
    }
    return refused(fmt::format("the database refused: {}", c.error));
  }

  if (sub == "list" && args_.words.size() == 2) {
    Format f;
    if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
    const auto all = keys.list();
    if (!all) return refused(fmt::format("the database refused: {}", keys.last_error()));
    Table t;
    for (const char* c : {"name", "role", "merchant", "created", "created_by", "revoked",
                          "last_used"})
      t.add_column(c);
    const auto when = [&](const std::string& iso) {
      return f == Format::table ? local(iso, config_.time_zone) : iso;
    };
    for (const auto& k : *all)
      t.rows.push_back({k.name, std::string(role_name(k.role)), k.merchant_id, when(k.created_at),
                        k.created_by, when(k.revoked_at), when(k.last_used_at)});
    print(output(), t, f);
    return kOk;
  }

  if (sub == "revoke" && args_.words.size() == 3) {
    const std::string& name = args_.words[2];
    if (option("reason").empty()) return usage("api-key revoke needs --reason TEXT");
    switch (keys.revoke(name, option("reason"), actor(), now_seconds())) {
      case AdminResult::ok:
        fmt::print("api key {} revoked: refused from its next request on\n", escape_text(name));
        return kOk;
      case AdminResult::unknown_code: return refused(fmt::format("no api key {}", name));
      case AdminResult::wrong_state:
        return refused(fmt::format("api key {} is already revoked", name));
      case AdminResult::invalid: return usage("a reason is needed");
      case AdminResult::over_limit:  // a refund's: never a key's
      case AdminResult::failed: break;
    }
    return refused(fmt::format("the database refused: {}", keys.last_error()));
  }
  return usage("api-key create NAME --role merchant|desk|points|web [--merchant ID] | "
               "api-key list | api-key revoke NAME --reason TEXT");
}

}  // namespace giftgate::ctl
