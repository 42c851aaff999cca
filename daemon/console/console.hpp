// The service desk console and the campaign dashboard: HTML pages for
// call-centre agents and campaign managers, served by giftgated under
// /console on the HTTP API's server. The pages call the same domain as
// every other channel (Service, Desk, Vouchers, Complaints, reports), so a
// rule is written once; this layer only reads forms and writes HTML.
//
// The contract:
// - handle() runs on the gateway's thread inside its open batch, as the
//   API's requests do: a change commits with the batch, and the answer is
//   sent only after that commit.
// - Every page but the sign-in page and the style sheet needs a live
//   session (cookie gg_session: HttpOnly, Secure, SameSite=Strict,
//   Path=/console); without one a GET is sent to the sign-in page (303),
//   anything else refused 401. Every POST must carry the session's CSRF
//   token as the form field `csrf` (403 otherwise, nothing done); the
//   sign-in form carries a pre-session token (cookie gg_login).
// - What an agent may do is Agents' may(): a supervisor's action asked by an
//   agent is refused 403, nothing done.
// - Everything shown that came from outside (names, texts, reasons, notes)
//   is HTML-escaped; pages load nothing but the server's own style sheet
//   (Content-Security-Policy: default-src 'self'), no script.
// - Sign-in checks the password with a slow KDF: handle() gives that work
//   back as a PasswordCheck (the caller runs it off the gateway's thread)
//   and finish_sign_in() answers once it is done.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/campaign/agents.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/http/server.hpp"
#include "protocol/log.hpp"

namespace giftgate::console {

enum class Language { en, zh };

// The text in the agent's language.
inline std::string_view tr(Language language, std::string_view en, std::string_view zh) {
  return language == Language::zh ? zh : en;
}

// What the pages reach: the gateway's own objects (a reload changes
// config and templates in place).
struct Context {
  db::Database& db;
  const Config& config;
  Service& service;
  Outbox& outbox;
  log::Logger log;
};

// One signed-in request being answered.
struct Page {
  const http::Request& request;
  std::string path;                           // decoded, without the query
  std::map<std::string, std::string> params;  // the route's {parameters}, decoded
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> form;    // a POST's fields, decoded
  AgentSession session;
  Language language = Language::en;
  Time now{};
  Actor actor{"console", ""};  // who: the agent's name

  std::string_view param(const std::string& name) const;
  // A query or form field, empty when absent.
  std::string_view get(const std::string& name) const;
  std::string_view field(const std::string& name) const;
};

using PageHandler = std::function<http::Response(Context&, Page&)>;

// One page or action: GET pages need DeskAction::look; each POST names the
// action it does, checked with may() before the handler runs.
struct Route {
  std::string method;  // "GET" or "POST"
  std::string path;    // "/console/vouchers/{code}/void"
  DeskAction action = DeskAction::look;
  PageHandler handler;
};

// The pages, by file: search, member, voucher and the desk's actions
// (desk_pages.cpp); complaints (complaint_pages.cpp); the dashboard and its
// CSV downloads (dashboard_pages.cpp).
std::vector<Route> desk_routes();
std::vector<Route> complaint_routes();
std::vector<Route> dashboard_routes();

// For the member and voucher pages (complaint_pages.cpp): the form that
// opens a complaint on this member (and voucher, when given), and the
// member's complaints as a table with links to each.
std::string open_complaint_form(const Page& page, std::string_view msisdn,
                                const std::optional<std::string>& voucher_code);
std::string member_complaints(Context& context, const Page& page, std::int64_t member_id);

// Answers: a whole HTML page in the console's layout (its navigation, the
// language switch, sign-out), `body` already HTML; a 303 to `location`; a
// page saying what went wrong (status 4xx/5xx), `message` text to escape.
http::Response page(const Page& page, unsigned status, std::string_view title,
                    const std::string& body);
http::Response redirect(std::string_view location);
http::Response error_page(const Page& page, unsigned status, std::string_view message);
// The database failed: 503, "try again", nothing done (never "unknown").
http::Response database_page(const Page& page, std::string_view what);

// The slow half of a sign-in, to run off the gateway's thread.
struct PasswordCheck {
  Agents::Credential credential;
  std::string password;
  std::string language;
};

class Console {
 public:
  explicit Console(Context context);

  // Either the answer, or a password to check (then call finish_sign_in
  // with the verdict, on the gateway's thread, inside a batch).
  std::variant<http::Response, PasswordCheck> handle(const http::Request& request, Time now);
  http::Response finish_sign_in(const http::Request& request, const PasswordCheck& check,
                                bool password_ok, Time now);

  // Sessions past their end, deleted (the gateway calls it while quiet).
  void prune(Time now);

 private:
  http::Response home(const Page& page);
  http::Response locked_page(const http::Request& request, Time until, Time now);
  // Whether one more sign-in may be tried from `address` this minute.
  bool address_may_try(const std::string& address, Time now);

  Context context_;
  std::vector<Route> routes_;
  std::map<std::string, std::pair<Time, int>> tries_;  // address: minute's start, tries
};

}  // namespace giftgate::console
