// The daemon's counters, and a Prometheus text endpoint for them on a
// loopback port: plain HTTP/1.0 over Boost.Asio, GET /metrics only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace giftgate {

struct Metrics {
  std::map<std::string, std::uint64_t> mo_by_command;
  std::map<std::string, std::uint64_t> ussd_screens;  // by screen name
  std::uint64_t mo_duplicates = 0;
  std::uint64_t mo_failed = 0;  // not committed, not acknowledged
  std::uint64_t mt_submitted = 0;
  std::uint64_t mt_submit_failed = 0;
  std::uint64_t resends = 0;
  std::map<std::string, std::uint64_t> receipts_by_state;
  std::uint64_t receipts_early = 0;  // before their submit_sm_resp: waited for
  // Applied to no message, by reason: unclaimed (early, and nothing claimed
  // them in time), recipient (not sent to the receipt's number), ambiguous.
  std::map<std::string, std::uint64_t> receipts_unmatched;
  // deliver_sm and data_sm acknowledged with nothing for the service in
  // them, by reason.
  std::map<std::string, std::uint64_t> inbound_ignored;
  std::uint64_t redemptions = 0;
  std::map<std::string, std::uint64_t> verifications;  // by reply
  // MOs past a limit (minute, day, quiet; ussd_ for USSD steps).
  std::map<std::string, std::uint64_t> mo_limited;
  // Failed verifications counted by the guard, and lock-outs, by merchant.
  std::map<std::string, std::uint64_t> verify_failures;
  std::map<std::string, std::uint64_t> merchant_lockouts;
  std::uint64_t mo_waited = 0;
  std::map<std::string, std::uint64_t> rows_pruned;  // by retention kind  // MOs that waited for the outbox before being handled
};

// A label's value as the Prometheus text format writes it (\\, \" and \n
// escaped): merchant ids come from an imported file.
std::string label_value(std::string_view value);

// Serves one request per connection and closes it.
//
// Contract: a client that is slow or too large costs little and is not
// kept: each connection has `deadline` to send its request and take the
// answer, after which it is closed; a request line and headers longer than
// `max_request` are answered 431 and closed; anything but GET /metrics (or
// /, or a page added) is answered 404. An accept that fails (out of descriptors, say) is
// retried after `accept_retry`, not at once, so the loop does not spin.
class MetricsServer {
 public:
  using Body = std::function<std::string()>;
  struct Limits {
    std::chrono::milliseconds deadline{5000};
    std::size_t max_request = 8192;
    std::chrono::milliseconds accept_retry{500};
  };
  // Listens on address:port (port 0: an ephemeral one, see port()).
  MetricsServer(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
                Body body, Limits limits);
  MetricsServer(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
                Body body)
      : MetricsServer(io, address, port, std::move(body), Limits{}) {}
  std::uint16_t port() const;
  // Another page beside /metrics (GET path), as plain text: giftctl status
  // reads /status.
  void add_page(std::string path, Body body);
  void close();

 private:
  struct Exchange;
  void accept();
  void serve(std::shared_ptr<Exchange> exchange);
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  Body body_;
  std::map<std::string, Body> pages_;
  Limits limits_;
};

}  // namespace giftgate
