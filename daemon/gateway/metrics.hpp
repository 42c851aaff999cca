// The daemon's counters, and a Prometheus text endpoint for them on a
// loopback port: plain HTTP/1.0 over Boost.Asio, GET /metrics only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

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
  std::uint64_t mo_waited = 0;  // MOs that waited for the outbox before being handled
};

// A label's value as the Prometheus text format writes it (\\, \" and \n
// escaped): merchant ids come from an imported file.
std::string label_value(std::string_view value);

class MetricsServer {
 public:
  using Body = std::function<std::string()>;
  // Listens on address:port (port 0: an ephemeral one, see port()).
  MetricsServer(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
                Body body);
  std::uint16_t port() const;
  void close();

 private:
  void accept();
  boost::asio::ip::tcp::acceptor acceptor_;
  Body body_;
};

}  // namespace giftgate
