// HTTP requests for the tests, made by curl (a client nobody here wrote):
// the status, the headers and the body of one request, or of several on
// one connection.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace giftgate::test {

struct HttpAnswer {
  int status = 0;  // 0: no answer (curl failed: see error)
  std::string headers;  // as sent, lower-cased names not guaranteed
  std::string body;
  std::string error;    // curl's standard error

  // A header's value (case-insensitive name), or empty.
  std::string header(const std::string& name) const {
    std::string lower;
    for (char c : headers) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string want;
    for (char c : name) want += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\n" + want + ":");
    if (at == std::string::npos) return {};
    auto from = at + want.size() + 2;
    while (from < headers.size() && headers[from] == ' ') ++from;
    const auto end = headers.find('\r', from);
    return headers.substr(from, end == std::string::npos ? std::string::npos : end - from);
  }

  // The Set-Cookie line (value and attributes) that sets cookie `name`, or
  // empty: an answer may set several cookies, each on its own header line.
  std::string set_cookie(const std::string& name) const {
    std::size_t from = 0;
    while (from < headers.size()) {
      auto end = headers.find('\n', from);
      if (end == std::string::npos) end = headers.size();
      std::string line = headers.substr(from, end - from);
      from = end + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string field;
      for (char c : line.substr(0, colon))
        field += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (field != "set-cookie") continue;
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (value.starts_with(name + "=")) return value;
    }
    return {};
  }
  // The value that answer sets cookie `name` to (before the first ';').
  std::string cookie_value(const std::string& name) const {
    const auto line = set_cookie(name);
    if (line.empty()) return {};
    return line.substr(name.size() + 1, line.find(';') - name.size() - 1);
  }
};

// One argument for sh, single-quoted.
inline std::string shell_quoted(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CurlOptions {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string cacert;       // verify the server's certificate against this CA
  bool insecure = false;    // -k
  int timeout_seconds = 10;
  // The body's type (a console form: application/x-www-form-urlencoded).
  std::string content_type = "application/json";
};

// curl METHOD url with `body` (none when empty and not a POST), in dir's
// files (replaced at each call).
inline HttpAnswer curl(const TempDir& dir, const std::string& method, const std::string& url,
                       const std::string& body = {}, const CurlOptions& options = {}) {
  std::ofstream(dir.file("curl-body-in"), std::ios::binary | std::ios::trunc) << body;
  std::string cmd = "curl -sS --max-time " + std::to_string(options.timeout_seconds) + " -X " +
                    shell_quoted(method) + " -o " + shell_quoted(dir.file("curl-body")) + " -D " +
                    shell_quoted(dir.file("curl-headers")) + " -w '%{http_code}'";
  for (const auto& [name, value] : options.headers) cmd += " -H " + shell_quoted(name + ": " + value);
  if (!body.empty() || method == "POST")
    cmd += " -H " + shell_quoted("Content-Type: " + options.content_type) + " --data-binary @" +
           shell_quoted(dir.file("curl-body-in"));
  if (!options.cacert.empty()) cmd += " --cacert " + shell_quoted(options.cacert);
  if (options.insecure) cmd += " -k";
  cmd += " " + shell_quoted(url) + " >" + shell_quoted(dir.file("curl-code")) + " 2>" +
         shell_quoted(dir.file("curl-err"));
  std::remove(dir.file("curl-body").c_str());
  std::remove(dir.file("curl-headers").c_str());
  (void)std::system(cmd.c_str());
  HttpAnswer a;
  const std::string code = slurp(dir.file("curl-code"));
  a.status = code.empty() ? 0 : std::atoi(code.c_str());
  a.headers = slurp(dir.file("curl-headers"));
  a.body = slurp(dir.file("curl-body"));
  a.error = slurp(dir.file("curl-err"));
  return a;
}

}  // namespace giftgate::test
