// The HTTP API's end-to-end fixture: a Gate with the API on a free
// loopback port and a key of each role, shared by the API's tests and the
// console's (which add TLS and agents on top).
#pragma once

#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "daemon/campaign/api_keys.hpp"
#include "tests/e2e/gate.hpp"
#include "tests/support/http_client.hpp"

namespace giftgate::e2e {

using nlohmann::json;
using test::curl;
using test::CurlOptions;
using test::HttpAnswer;

// A loopback port nobody listens on now (bound, read, released).
inline int free_port() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(probe);
  return ntohs(addr.sin_port);
}

inline const Time kNow = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());

// A gate with the API on, and a key of each role made before the start.
struct ApiGate : Gate {
  int port = free_port();
  std::map<std::string, std::string> keys;  // role -> secret
  // The CA that clients verify the server with when the API speaks TLS
  // (set by whoever configured api.tls_*); empty: plain HTTP.
  std::string ca;

  explicit ApiGate(const std::string& extra = "", const std::string& api_extra = "")
      : Gate(fmt::format("api:\n  listen: 127.0.0.1\n  port: {}\n{}{}", free_port_placeholder(),
                         api_extra, extra)) {
    edit_config(fmt::format("port: {}\n", kPlaceholder), fmt::format("port: {}\n", port));
    auto db = test::open_campaign_db(db_path);
    ApiKeys api_keys(*db);
    for (const auto& [name, role, merchant] :
         {std::tuple{"till-1", ApiRole::merchant, "bj-1"}, std::tuple{"desk", ApiRole::desk, ""},
          std::tuple{"club-points", ApiRole::points, ""}, std::tuple{"website", ApiRole::web, ""},
          std::tuple{"till-2", ApiRole::merchant, "bj-2"}}) {
      const auto made = api_keys.create(name, role, merchant, {"giftctl", "e2e"}, kNow);
      REQUIRE(made.status == ApiKeys::Created::Status::created);
      keys[name] = made.secret;
    }
    std::string error;
    const auto config = find_config(config_path, &error);
    REQUIRE(config);
    Vouchers v(*db, config->campaign);
    REQUIRE(v.set_stock("C", "beijing", 100, {"e2e", "e2e"}));
  }
  static constexpr int kPlaceholder = 65000;
  static int free_port_placeholder() { return kPlaceholder; }

  std::string url(const std::string& path) const {
    return fmt::format("{}://127.0.0.1:{}{}", ca.empty() ? "http" : "https", port, path);
  }
  // curl's options for this server: its CA when it speaks TLS.
  CurlOptions options() const {
    CurlOptions o;
    o.cacert = ca;
    return o;
  }
  HttpAnswer call(const std::string& key, const std::string& method, const std::string& path,
                  const std::string& body = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    CurlOptions o = options();
    o.headers = std::move(headers);
    if (!key.empty()) o.headers.emplace_back("Authorization", "Bearer " + keys.at(key));
    return curl(dir, method, url(path), body, o);
  }
  // Waits (bounded) until the API answers.
  void wait_api() {
    for (int i = 0; i < 100; ++i) {
      if (curl(dir, "GET", url("/v1/health"), {}, options()).status == 200) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("the API did not answer: " << daemon->log());
  }
  // A voucher for the member, redeemed by the desk on their behalf.
  std::string voucher(const std::string& msisdn, const std::string& tier = "B",
                      const std::string& request = "r1") {
    const auto a = call("desk", "POST", "/v1/members/" + msisdn + "/redemptions",
                        json{{"agent", "li"}, {"reason", "asked on the phone"}, {"tier", tier},
                             {"request_id", request}}.dump());
    INFO(a.body);
    REQUIRE(a.status == 201);
    return json::parse(a.body)["code"].get<std::string>();
  }
};

}  // namespace giftgate::e2e
