// The console's end-to-end fixture: the API's gate over TLS (certificates
// from scripts/api-cert.sh, as an operator makes them), agents made with
// the built giftctl as an operator makes them, and curl as a browser that
// holds cookies by hand, so the security tests see every header and status.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/api_gate.hpp"
#include "tests/support/giftctl_run.hpp"

namespace giftgate::e2e {

// A throwaway CA and a server certificate for 127.0.0.1, made by the
// shipped script.
struct TestCertificates {
  test::TempDir certs;
  TestCertificates() {
    const std::string script = std::string(GIFTGATE_SOURCE_DIR) + "/scripts/api-cert.sh";
    REQUIRE(std::system((script + " " + test::shell_quoted(certs.path().string()) + " >/dev/null 2>&1")
                            .c_str()) == 0);
  }
  // The api.* lines that turn TLS on with them.
  std::string api_settings() const {
    return fmt::format("  tls_certificate: {}\n  tls_key: {}\n", certs.file("server.pem"),
                       certs.file("server.key"));
  }
};

// A form's fields, %-encoded as a browser posts them.
inline std::string form_encoded(const std::vector<std::pair<std::string, std::string>>& fields) {
  const auto encode = [](const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
      else if (c == ' ') out += '+';
      else out += fmt::format("%{:02X}", c);
    }
    return out;
  };
  std::string body;
  for (const auto& [name, value] : fields) body += (body.empty() ? "" : "&") + encode(name) + "=" + encode(value);
  return body;
}

// The value of the first hidden field csrf in a page, or empty.
inline std::string csrf_in(const std::string& html) {
  const std::string marker = "name=\"csrf\" value=\"";
  const auto at = html.find(marker);
  if (at == std::string::npos) return {};
  const auto from = at + marker.size();
  return html.substr(from, html.find('"', from) - from);
}

// A signed-in agent as curl holds them: the session cookie and the
// session's CSRF token read from a page.
struct ConsoleSession {
  std::string cookie;  // gg_session's value
  std::string csrf;
};

struct ConsoleGate : TestCertificates, ApiGate {
  explicit ConsoleGate(const std::string& extra = "") : ApiGate(extra, api_settings()) {
    ca = certs.file("ca.pem");
  }

  // giftctl agent add NAME --role ROLE, the password on standard input.
  void add_agent(const std::string& name, const std::string& role, const std::string& password) {
    const std::string file = dir.file("password-" + name);
    std::ofstream(file, std::ios::trunc) << password << "\n";
    const auto run = test::run_giftctl(dir, config_path,
                                       "agent add " + test::shell_quoted(name) + " --role " + role +
                                           " < " + test::shell_quoted(file));
    INFO(run.out << run.err);
    REQUIRE(run.status == 0);
  }

  // GET a console page with the session cookie (none when empty).
  HttpAnswer get(const std::string& path, const std::string& cookie = {}) {
    CurlOptions o = options();
    if (!cookie.empty()) o.headers.emplace_back("Cookie", "gg_session=" + cookie);
    return curl(dir, "GET", url(path), {}, o);
  }
  // POST a form to a console page with cookies as given ("a=b; c=d").
  HttpAnswer post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& form,
                  const std::string& cookies) {
    CurlOptions o = options();
    o.content_type = "application/x-www-form-urlencoded";
    if (!cookies.empty()) o.headers.emplace_back("Cookie", cookies);
    return curl(dir, "POST", url(path), form_encoded(form), o);
  }
  HttpAnswer post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& form,
                  const ConsoleSession& session) {
    return post(path, form, "gg_session=" + session.cookie);
  }

  // The sign-in form posted as a browser posts it: its pre-session cookie
  // and token from GET /console/login first. The POST's answer.
  HttpAnswer try_sign_in(const std::string& name, const std::string& password) {
    const auto form = get("/console/login");
    REQUIRE(form.status == 200);
    const std::string token = form.cookie_value("gg_login");
    REQUIRE(!token.empty());
    REQUIRE(csrf_in(form.body) == token);
    return post("/console/login", {{"csrf", token}, {"name", name}, {"password", password}},
                "gg_login=" + token);
  }
  // Signed in (required), with the session's CSRF token read from the home page.
  ConsoleSession sign_in(const std::string& name, const std::string& password) {
    const auto a = try_sign_in(name, password);
    INFO(a.status << " " << a.body);
    REQUIRE(a.status == 303);
    ConsoleSession s{a.cookie_value("gg_session"), {}};
    REQUIRE(!s.cookie.empty());
    const auto home = get("/console/", s.cookie);
    REQUIRE(home.status == 200);
    s.csrf = csrf_in(home.body);
    REQUIRE(!s.csrf.empty());
    return s;
  }

  // Waits (bounded) until the console answers over TLS.
  void wait_console() {
    for (int i = 0; i < 100; ++i) {
      if (get("/console/login").status == 200) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("the console did not answer: " << daemon->log());
  }
};

}  // namespace giftgate::e2e
