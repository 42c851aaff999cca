// The HTTP server under giftgated's API: HTTP/1.1 over TCP or TLS on
// Boost.Beast, keep-alive, and the limits that keep one client from costing
// the others. It knows nothing of vouchers, keys or JSON documents beyond
// its own error bodies: each whole request goes to the Handler, whose one
// answer goes back on the connection.
//
// The contract:
// - Every request read whole and within the limits is handed to the
//   handler exactly once; the handler calls its Respond exactly once (from
//   any thread); the answer is written in the order the requests came (one
//   request at a time per connection: no pipelining is read ahead).
// - What breaks a limit is answered by the server itself, as JSON
//   {"error":{"code":"...","message":"..."}}, and the connection closed:
//   headers past max_header_bytes 431 header_too_large, a body past
//   max_body_bytes 413 body_too_large (told by Content-Length before it is
//   read), a request unreadable as HTTP 400 bad_request, a request not whole
//   within request_timeout 408 timeout. A connection past max_connections
//   is answered 503 too_many_connections and closed at once (past twice
//   max_connections, while as many are being refused, closed without a
//   word: each refusal costs a write, over TLS a handshake).
// - A handler that throws has its request answered 500 internal_error; the
//   server and the connection go on.
// - Idle keep-alive connections are closed after idle_timeout; a TLS
//   handshake has request_timeout to finish. request_timeout counts from
//   the connection's start (after the handshake) for its first request,
//   from the first byte for each later one.
// - close() stops accepting and closes every connection; answers that come
//   after are dropped.
// - Threads: the io_context may be run by one thread or several. The
//   acceptor and each connection have a strand of their own; the handler
//   is called on its connection's strand (so it must not block: hand slow
//   work on and Respond later), and a Respond from any thread is posted
//   back onto it. close() and counts() may be called from any thread;
//   close() does its closing on the io_context's threads, so destroy the
//   Server before the io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "protocol/log.hpp"

namespace giftgate::http {

// One request, as the handler sees it.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent: "/v1/verifications?date=2026-12-02"
  // Header names in lower case, in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client_address;  // the peer's IP address, as text

  // The first header of that (lower-case) name, or empty.
  std::string_view header(std::string_view name) const;
};

// One answer.
struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  // Extra headers (Retry-After, Location ...).
  std::vector<std::pair<std::string, std::string>> headers;
};

// An error answer in the API's one form:
// {"error":{"code":"<code>","message":"<message>"}} (message JSON-escaped).
Response error_response(unsigned status, std::string_view code, std::string_view message);

// Hands the answer back; callable once, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request, Respond)>;

struct Limits {
  std::size_t max_connections = 256;
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
};

// A certificate chain and its key, PEM files.
struct TlsFiles {
  std::string certificate;
  std::string key;
};

// Whether an address (as configured: "127.0.0.1", "::1", "localhost") is
// loopback only: plain HTTP is allowed there alone.
bool is_loopback(std::string_view address);

class Server {
 public:
  // Listens on address:port (port 0: an ephemeral one, see port()), with
  // TLS when `tls` is given. nullptr, with *error saying why (the address
  // in use, a certificate or key unreadable or not matching, plain HTTP on
  // an address that is not loopback), when it cannot.
  static std::unique_ptr<Server> start(boost::asio::io_context& io, const std::string& address,
                                       std::uint16_t port, std::optional<TlsFiles> tls,
                                       Limits limits, Handler handler, log::Logger logger,
                                       std::string* error);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  void close();

  // For metrics: connections open now, and requests answered by the
  // handler and refused by the server itself since the start.
  struct Counts {
    std::size_t open = 0;
    std::uint64_t requests = 0;
    std::uint64_t refused = 0;
  };
  Counts counts() const;

 private:
  struct Impl;
  explicit Server(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace giftgate::http
