// The HTTP API's routes: what merchant terminals, the service desk, the
// club's points system and its website may ask, each answered by the same
// domain calls the SMS and USSD channels use (Service, Vouchers, Outbox,
// PointsExchange, WebLogin), so a rule is written once.
//
// The contract:
// - handle() runs on the gateway's thread inside its open batch (the
//   caller joined it): what a request changes commits with the batch, and
//   the caller sends the answer only after that commit (GroupCommit::
//   after_commit). A request refused for any reason changes nothing, except
//   what a refusal must keep: a wrong verification or sign-in code counted.
// - Every request names its key (Authorization: Bearer ggk_...), read from
//   the database each time, so a revoked key is refused from the next
//   request on. A key of another role is answered 403.
// - Every error is JSON {"error":{"code","message"}}: 400 for a body or
//   query that is not what the route takes (malformed JSON, a wrong type,
//   an unknown or missing field), 401 for no or a wrong key, 403 for a role
//   that may not, 404 for an unknown member, voucher or route, 409 or 422
//   for a business refusal with the reason the SMS reply gives (its
//   message is that reply's text), 429 with Retry-After past a key's rate,
//   503 when the database refused (nothing was done).
// - Phone numbers are masked and codes, keys and tokens never written in
//   its logs: a request is logged by its route's pattern, not its path.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/api_keys.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/http/server.hpp"
#include "protocol/log.hpp"

namespace giftgate {

// One route: its method, its path with {parameters}, and the role that may
// call it (none: no key needed).
struct ApiRoute {
  std::string method;
  std::string path;  // "/v1/vouchers/{code}/void"
  std::optional<ApiRole> role;
  std::string summary;
};

// Every route the API serves, in the order giftgate-api(7) lists them; the
// shipped OpenAPI document is checked against it.
const std::vector<ApiRoute>& api_routes();

class Api {
 public:
  // config and service are the gateway's (a reload changes them in place).
  Api(db::Database& db, const Config& config, Service& service, Outbox& outbox,
      std::shared_ptr<const Templates> templates, log::Logger log);

  // A reload's texts (error messages are the SMS replies' texts).
  void set_templates(std::shared_ptr<const Templates> templates) {
    templates_ = std::move(templates);
  }

  // One request (see the contract above). `steady` paces the keys' rates.
  http::Response handle(const http::Request& request, Time now,
                        std::chrono::steady_clock::time_point steady);

  // Prometheus lines: giftgate_api_requests_total{route,status}.
  std::string metrics_text() const;

  struct Call;  // one request being answered (api.cpp)

 private:
  using Handler = http::Response (Api::*)(Call&);
  http::Response dispatch(Call& call, Handler handler);

  // merchant
  http::Response verify(Call& call);
  http::Response verifications(Call& call);
  // desk
  http::Response member(Call& call);
  http::Response voucher(Call& call);
  http::Response resend(Call& call);
  http::Response void_voucher(Call& call);
  http::Response reinstate(Call& call);
  http::Response redeem_for_member(Call& call);
  // points
  http::Response accruals(Call& call);
  http::Response feed(Call& call);
  // web
  http::Response web_code(Call& call);
  http::Response web_token(Call& call);
  http::Response web_me(Call& call);
  http::Response web_vouchers(Call& call);
  http::Response web_redeem(Call& call);
  // none
  http::Response health(Call& call);

  // A refusal whose message is the SMS reply `message` rendered with `values`.
  http::Response refusal(const Call& call, unsigned status, std::string_view code,
                         std::string_view message, const TemplateValues& values = {}) const;
  http::Response database_failed(const Call& call, std::string_view what);
  // A redemption (desk or web) as its answer.
  http::Response redeemed(const Call& call, const Redemption& r);

  // A token bucket per key (and per client address for requests with no
  // valid key): whether one more request may go now, else the seconds to wait.
  std::optional<std::int64_t> over_rate(const std::string& who,
                                        std::chrono::steady_clock::time_point now);

  db::Database& db_;
  const Config& config_;
  Service& service_;
  Outbox& outbox_;
  std::shared_ptr<const Templates> templates_;
  log::Logger log_;
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at{};
  };
  std::map<std::string, Bucket> buckets_;
  std::map<std::int64_t, Time> touched_;  // when each key's last_used_at was written
  std::map<std::pair<std::string, unsigned>, std::uint64_t> counts_;  // route pattern, status
};

}  // namespace giftgate
