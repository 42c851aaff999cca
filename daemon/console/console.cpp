#include "daemon/console/console.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include "daemon/campaign/complaints.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/http/form.hpp"

#include "daemon/console/html.hpp"

namespace giftgate::console {
namespace {

// Headers every console answer carries: nothing from elsewhere, no script,
// no framing, nothing cached, no referrer leaving the console.
constexpr std::string_view kSessionCookie = "gg_session";
constexpr std::string_view kLoginCookie = "gg_login";

void secure_headers(http::Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                         "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

std::string_view Page::param(const std::string& name) const {
  const auto it = params.find(name);
  return it == params.end() ? std::string_view{} : std::string_view(it->second);
}

std::string_view Page::get(const std::string& name) const {
  const auto it = query.find(name);
  return it == query.end() ? std::string_view{} : std::string_view(it->second);
}

std::string_view Page::field(const std::string& name) const {
  const auto it = form.find(name);
  return it == form.end() ? std::string_view{} : std::string_view(it->second);
}

http::Response page(const Page& p, unsigned status, std::string_view title, const std::string& body) {
  const auto l = p.language;
  std::string nav = fmt::format(
      "<nav><span class=\"brand\">giftgate</span>"
      "<form method=\"get\" action=\"/console/search\" id=\"nav-search\">"
      "<input type=\"search\" name=\"q\" placeholder=\"{}\"></form>"
      "{} {} {}"
      "<span class=\"who\">{} ({})</span>"
      "<form method=\"post\" action=\"/console/language\" id=\"language\">{}"
      "<input type=\"hidden\" name=\"language\" value=\"{}\">"
      "<input type=\"hidden\" name=\"back\" value=\"{}\">"
      "<button type=\"submit\">{}</button></form>"
      "<form method=\"post\" action=\"/console/logout\" id=\"logout\">{}"
      "<button type=\"submit\">{}</button></form></nav>\n",
      escape(tr(l, "Number or voucher code", "手机号或券码")),
      link("/console/", tr(l, "Search", "查询")),
      link("/console/complaints", tr(l, "Complaints", "投诉")),
      link("/console/dashboard", tr(l, "Dashboard", "看板")), escape(p.session.name),
      escape(to_string(p.session.role)), csrf_field(p), l == Language::zh ? "en" : "zh",
      escape(p.path), l == Language::zh ? "English" : "中文", csrf_field(p),
      escape(tr(l, "Sign out", "退出")));
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\">"
      "<title>{} - giftgate</title>"
      "<link rel=\"stylesheet\" href=\"/console/static/console.css\"></head>\n"
      "<body>\n{}<main>\n<h1>{}</h1>\n{}</main>\n</body>\n</html>\n",
      l == Language::zh ? "zh-CN" : "en", escape(title), nav, escape(title), body);
  secure_headers(r);
  return r;
}

http::Response redirect(std::string_view location) {
  http::Response r;
  r.status = 303;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Location", std::string(location));
  secure_headers(r);
  return r;
}

http::Response error_page(const Page& p, unsigned status, std::string_view message) {
  return page(p, status, tr(p.language, "Not done", "未完成"),
              fmt::format("<p class=\"error\" id=\"error\">{}</p>\n", escape(message)));
}

http::Response database_page(const Page& p, std::string_view what) {
  (void)what;  // the caller logs what failed; the agent is told to try again
  return error_page(p, 503,
                    tr(p.language, "The database is busy; nothing was done. Please try again.",
                       "数据库繁忙，未做任何更改。请重试。"));
}

namespace {

// The console's one style sheet: served from here, so nothing loads from
// elsewhere and no file needs installing beside the program.
constexpr std::string_view kStyle = R"css(
:root { --ink: #1d2733; --muted: #5b6b7c; --line: #d5dde6; --band: #f3f6f9;
        --accent: #0b6e99; --bad: #a4262c; --good: #1f7a3a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "Noto Sans CJK SC", "WenQuanYi Micro Hei", "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; }
nav { display: flex; flex-wrap: wrap; gap: .8em; align-items: center; padding: .6em 1.2em;
      background: var(--ink); color: #fff; }
nav a, nav .who { color: #fff; }
nav .brand { font-weight: bold; margin-right: 1em; }
nav form { display: inline; margin: 0; }
nav .who { margin-left: auto; color: #cfe3f0; }
main nav { display: block; background: none; color: inherit; padding: 0; }
main nav a { color: var(--accent); }
main { padding: 1em 1.6em 3em; max-width: 80em; }
h1 { font-size: 1.5em; margin: .3em 0 .6em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; border-bottom: 1px solid var(--line); }
section { margin-bottom: 1.2em; }
table { border-collapse: collapse; margin: .4em 0; font-size: .92em; }
th, td { border: 1px solid var(--line); padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: var(--band); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
form { margin: .4em 0; }
fieldset { border: 1px solid var(--line); margin: .6em 0; padding: .5em .8em; }
input, select, textarea, button { font: inherit; padding: .25em .45em; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 3px; cursor: pointer; }
nav button { background: #3b4d60; }
.error { color: var(--bad); font-weight: bold; }
.done { color: var(--good); font-weight: bold; }
.empty { color: var(--muted); }
.big { font-size: 2em; font-weight: bold; }
.login { max-width: 22em; margin: 4em auto; }
.login label { display: block; margin: .6em 0; }
.login input { width: 100%; }
svg { max-width: 100%; height: auto; }
)css";

std::string random_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool same_secret(std::string_view a, std::string_view b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

http::Response plain_page(unsigned status, std::string_view title, const std::string& body,
                          std::string_view lang = "en") {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>{} - giftgate</title>"
      "<link rel=\"stylesheet\" href=\"/console/static/console.css\"></head>\n"
      "<body>\n<main>\n{}</main>\n</body>\n</html>\n",
      lang, escape(title), body);
  secure_headers(r);
  return r;
}

// The sign-in page, with its pre-session token (a new one when the
// browser has none) and what went wrong last, if anything.
http::Response login_page(const http::Request& request, unsigned status, std::string_view error) {
  std::string token = http::cookie(request, kLoginCookie);
  const bool fresh = token.size() != 48;
  if (fresh) token = random_token();
  std::string body = fmt::format(
      "<div class=\"login\"><h1>giftgate</h1><p>Service desk console · 客服控制台</p>\n{}"
      "<form method=\"post\" action=\"/console/login\" id=\"sign-in\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{}\">"
      "<label>Name · 用户名 <input type=\"text\" name=\"name\" autocomplete=\"username\" required "
      "autofocus></label>"
      "<label>Password · 密码 <input type=\"password\" name=\"password\" "
      "autocomplete=\"current-password\" required></label>"
      "<button type=\"submit\">Sign in · 登录</button></form></div>\n",
      error.empty() ? std::string() : fmt::format("<p class=\"error\" id=\"error\">{}</p>\n", escape(error)),
      escape(token));
  auto r = plain_page(status, "Sign in", body);
  if (fresh)
    r.headers.emplace_back("Set-Cookie", fmt::format("{}={}; Path=/console; HttpOnly; Secure; "
                                                     "SameSite=Strict; Max-Age=3600",
                                                     kLoginCookie, token));
  return r;
}

std::string clear_cookie(std::string_view name) {
  return fmt::format("{}=; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0", name);
}

// Where a language switch may send the agent back to: a console page only.
bool safe_back(std::string_view back) {
  return back.starts_with("/console/") && back.find("//") == std::string_view::npos &&
         back.find('\\') == std::string_view::npos &&
         back.find_first_of("\r\n") == std::string_view::npos;
}

Language language_of(std::string_view code) { return code == "zh" ? Language::zh : Language::en; }

}  // namespace

Console::Console(Context context) : context_(std::move(context)) {
  for (auto* routes : {&desk_routes, &complaint_routes, &dashboard_routes})
    for (auto& route : (*routes)()) routes_.push_back(std::move(route));
}

std::variant<http::Response, PasswordCheck> Console::handle(const http::Request& request, Time now) {
  auto target = http::parse_target(request.target);
  if (!target) return plain_page(400, "Bad request", "<p class=\"error\">Not a path, or a broken %-escape.</p>");
  const auto& path = target->path;
  const auto answered = [&](http::Response r, std::string_view route, std::string_view agent) {
    context_.log.debug("console_request",
                       {{"route", std::string(route)}, {"status", r.status}, {"agent", std::string(agent)}});
    return r;
  };

  if (path == "/console/static/console.css" && request.method == "GET") {
    http::Response r;
    r.content_type = "text/css; charset=utf-8";
    r.body = std::string(kStyle);
    secure_headers(r);
    r.headers.emplace_back("X-Console", "style");
    return r;
  }

  std::optional<std::map<std::string, std::string>> form;
  if (request.method == "POST") {
    form = http::parse_urlencoded(request.body);
    if (!form) return answered(plain_page(400, "Bad request", "<p class=\"error\">A broken form.</p>"), path, "-");
  }

  // Sign-in: the pre-session token guards the form against being posted
  // from elsewhere (login CSRF); the password is checked off this thread.
  if (path == "/console/login") {
    if (request.method == "GET") return answered(login_page(request, 200, {}), "GET /console/login", "-");
    if (request.method != "POST") return answered(plain_page(405, "Not allowed", ""), path, "-");
    const auto field = [&](const char* name) {
      const auto it = form->find(name);
      return it == form->end() ? std::string() : it->second;
    };
    if (!same_secret(field("csrf"), http::cookie(request, kLoginCookie)))
      return answered(login_page(request, 403, "The sign-in form was stale; please sign in again. "
                                               "表单已过期，请重新登录。"),
                      "POST /console/login", "-");
    if (field("name").empty() || field("password").empty())
      return answered(login_page(request, 400, "Name and password, please. 请输入用户名和密码。"),
                      "POST /console/login", "-");
    if (!address_may_try(request.client_address, now))
      return answered(login_page(request, 429, "Too many sign-ins from here; wait a minute. "
                                               "登录尝试过多，请一分钟后再试。"),
                      "POST /console/login", "-");
    Agents agents(context_.db);
    db::Status status;
    auto credential = agents.credential(field("name"), now, &status);
    if (!credential) {
      context_.log.warning("console_database_failed", {{"what", "sign-in"}, {"error", status.message}});
      return answered(login_page(request, 503, "The database is busy; please try again. "
                                               "数据库繁忙，请重试。"),
                      "POST /console/login", "-");
    }
    if (credential->locked_until)
      return answered(locked_page(request, *credential->locked_until, now), "POST /console/login", "-");
    return PasswordCheck{std::move(*credential), field("password"), "en"};
  }

  // Everything else needs a live session.
  const std::string token = http::cookie(request, kSessionCookie);
  std::optional<AgentSession> session;
  if (!token.empty()) {
    Agents agents(context_.db);
    db::Status status;
    session = agents.session(token, context_.config.console, now, &status);
    if (!status.ok()) {
      context_.log.warning("console_database_failed", {{"what", "session"}, {"error", status.message}});
      return answered(plain_page(503, "Busy", "<p class=\"error\">The database is busy; nothing was done. "
                                              "Please try again. 数据库繁忙，未做任何更改。请重试。</p>"),
                      path, "-");
    }
  }
  if (!session) {
    if (request.method == "GET") {
      auto r = redirect("/console/login");
      if (!token.empty()) r.headers.emplace_back("Set-Cookie", clear_cookie(kSessionCookie));
      return answered(std::move(r), path, "-");
    }
    return answered(plain_page(401, "Signed out", "<p class=\"error\" id=\"error\">Not signed in, or the "
                                                  "session ended: nothing was done. <a href=\"/console/login\">"
                                                  "Sign in</a></p>"),
                    path, "-");
  }

  Page p{request, path, {}, std::move(target->query), form ? std::move(*form) : std::map<std::string, std::string>{},
         *session, language_of(session->language), now, Actor{"console", session->name}};
  const std::string agent = session->name;

  // Every change carries the session's CSRF token.
  if (request.method == "POST" && !same_secret(p.field("csrf"), session->csrf))
    return answered(error_page(p, 403, tr(p.language, "The form was stale or not from this console: nothing was "
                                                      "done. Open the page again and retry.",
                                          "表单已过期或并非来自本控制台：未做任何更改。请重新打开页面再试。")),
                    path, agent);

  if (path == "/console/logout" && request.method == "POST") {
    Agents(context_.db).end_session(token, now);
    context_.log.info("console_signed_out", {{"agent", agent}});
    auto r = redirect("/console/login");
    r.headers.emplace_back("Set-Cookie", clear_cookie(kSessionCookie));
    return answered(std::move(r), "POST /console/logout", agent);
  }
  if (path == "/console/language" && request.method == "POST") {
    const auto language = p.field("language");
    if (language != "en" && language != "zh")
      return answered(error_page(p, 400, "language: en or zh"), "POST /console/language", agent);
    if (!Agents(context_.db).set_language(token, language))
      return answered(database_page(p, "language"), "POST /console/language", agent);
    const auto back = p.field("back");
    return answered(redirect(safe_back(back) ? back : "/console/"), "POST /console/language", agent);
  }
  if ((path == "/console/" || path == "/console") && request.method == "GET")
    return answered(home(p), "GET /console/", agent);

  bool path_known = false;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!http::match_path(route.path, target->segments, &params)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    const std::string name = route.method + " " + route.path;
    if (!may(session->role, route.action))
      return answered(error_page(p, 403, tr(p.language, "Only a supervisor may do this: nothing was done.",
                                            "只有主管可以执行此操作：未做任何更改。")),
                      name, agent);
    p.params = std::move(params);
    return answered(route.handler(context_, p), name, agent);
  }
  return answered(error_page(p, path_known ? 405 : 404,
                             path_known ? tr(p.language, "This page takes another method.", "请求方法不对。")
                                        : tr(p.language, "No such page.", "没有这个页面。")),
                  path_known ? "405" : "404", agent);
}

http::Response Console::finish_sign_in(const http::Request& request, const PasswordCheck& check,
                                       bool password_ok, Time now) {
  Agents agents(context_.db);
  const auto signed_in = agents.finish_sign_in(check.credential, password_ok, request.client_address,
                                               context_.config.console, now);
  using S = Agents::SignIn::Status;
  switch (signed_in.status) {
    case S::signed_in: {
      context_.log.info("console_signed_in", {{"agent", signed_in.session.name},
                                              {"address", request.client_address}});
      auto r = redirect("/console/");
      r.headers.emplace_back("Set-Cookie",
                             fmt::format("{}={}; Path=/console; HttpOnly; Secure; SameSite=Strict",
                                         kSessionCookie, signed_in.token));
      r.headers.emplace_back("Set-Cookie", clear_cookie(kLoginCookie));
      return r;
    }
    case S::wrong:
      context_.log.info("console_sign_in_refused", {{"address", request.client_address}});
      return login_page(request, 401, "Wrong name or password. 用户名或密码错误。");
    case S::locked:
      context_.log.warning("console_agent_locked", {{"address", request.client_address}});
      return locked_page(request, signed_in.locked_until.value_or(now), now);
    case S::failed: break;
  }
  return login_page(request, 503, "The database is busy; please try again. 数据库繁忙，请重试。");
}

http::Response Console::locked_page(const http::Request& request, Time until, Time now) {
  const auto minutes = std::max<std::int64_t>(
      1, std::chrono::ceil<std::chrono::minutes>(until - now).count());
  return login_page(request, 401,
                    fmt::format("Too many wrong passwords: this account is locked for {} more minutes. "
                                "密码错误次数过多：账户已锁定，{} 分钟后再试。",
                                minutes, minutes));
}

bool Console::address_may_try(const std::string& address, Time now) {
  // At most 20 sign-ins a minute from one address, across all names: the
  // lock-out guards each account, this guards against trying many.
  auto& [start, count] = tries_[address];
  if (now - start >= std::chrono::minutes(1)) {
    start = now;
    count = 0;
  }
  if (tries_.size() > 10000) std::erase_if(tries_, [&](const auto& e) { return now - e.second.first >= std::chrono::minutes(1); });
  return ++count <= 20;
}

http::Response Console::home(const Page& p) {
  const auto l = p.language;
  std::string error;
  std::optional<std::size_t> open_complaints;
  if (const auto t = Complaints(context_.db).list("open", p.now, &error)) open_complaints = t->rows.size();
  else context_.log.warning("console_database_failed", {{"what", "open complaints"}, {"error", error}});
  std::string body = fmt::format(
      "<form method=\"get\" action=\"/console/search\" id=\"search\">"
      "<label>{} <input type=\"search\" name=\"q\" size=\"32\" autofocus></label> "
      "<button type=\"submit\">{}</button></form>\n"
      "<p class=\"empty\">{}</p>\n<ul>\n<li>{} <span id=\"open-complaints\">{}</span></li>\n<li>{}</li>\n</ul>\n",
      escape(tr(l, "Phone number or voucher code", "手机号或券码")), escape(tr(l, "Search", "查询")),
      escape(tr(l, "A number as the caller reads it (with or without +86, spaces, full-width digits), "
                   "or a voucher code: the check digit tells a misheard one.",
                   "按来电者读出的号码输入（可带 +86、空格或全角数字），或输入券码：校验位可发现听错的字符。")),
      link("/console/complaints", tr(l, "Open complaints, oldest first:", "未结投诉（按时间先后）：")),
      open_complaints ? std::to_string(*open_complaints) : std::string("?"),
      link("/console/dashboard", tr(l, "Campaign dashboard", "活动看板")));
  return page(p, 200, tr(l, "Service desk", "客服台"), body);
}

void Console::prune(Time now) {
  const auto n = Agents(context_.db).prune(context_.config.console, now);
  if (!n) context_.log.warning("prune_failed", {{"what", "console sessions"}});
  else if (*n > 0) context_.log.debug("prune_batch", {{"what", "console sessions"}, {"rows", *n}});
}

}  // namespace giftgate::console
