#include "daemon/console/console.hpp"

#include <fmt/format.h>

#include "daemon/console/html.hpp"

namespace giftgate::console {
namespace {

// Headers every console answer carries: nothing from elsewhere, no script,
// no framing, nothing cached, no referrer leaving the console.
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
  p.request.header("");  // (keeps the signature's page in use for the language)
  (void)what;            // the caller logs it; the agent is told to try again
  return error_page(p, 503,
                    tr(p.language, "The database is busy; nothing was done. Please try again.",
                       "数据库繁忙，未做任何更改。请重试。"));
}

Console::Console(Context context) : context_(std::move(context)) {}

std::variant<http::Response, PasswordCheck> Console::handle(const http::Request&, Time) {
  return http::error_response(404, "not_found", "the console is being built");
}

http::Response Console::finish_sign_in(const http::Request&, const PasswordCheck&, bool, Time) {
  return http::error_response(404, "not_found", "the console is being built");
}

void Console::prune(Time) {}

}  // namespace giftgate::console
