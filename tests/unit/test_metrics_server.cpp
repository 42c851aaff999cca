// MetricsServer on a real loopback socket: every wait is bounded by a
// receive timeout on the client or by io_context::run_for.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/gateway/metrics.hpp"

using namespace std::chrono_literals;
using giftgate::MetricsServer;

namespace {

// A plain blocking client; reads give up after `timeout`.
class Client {
 public:
  Client(std::uint16_t port, std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~Client() { ::close(fd_); }

  void send(const std::string& data) {
    REQUIRE(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
  }

  // Everything until the server closes; `closed` says whether it did
  // (false: the timeout came first).
  std::string read_all(bool& closed) {
    std::string got;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        got.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      closed = n == 0 || errno == ECONNRESET;
      return got;
    }
  }

 private:
  int fd_ = -1;
};

struct Served {
  explicit Served(MetricsServer::Limits limits)
      : work(boost::asio::make_work_guard(io)),
        server(io, "127.0.0.1", 0, [] { return std::string("giftgate_up 1\n"); }, limits),
        thread([this] { io.run(); }) {}
  ~Served() {
    boost::asio::post(io, [this] { server.close(); });
    work.reset();
    io.stop();
    thread.join();
  }
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  MetricsServer server;
  std::thread thread;
};

MetricsServer::Limits short_limits() {
  MetricsServer::Limits limits;
  limits.deadline = 300ms;
  limits.max_request = 1024;
  limits.accept_retry = 100ms;
  return limits;
}

}  // namespace

TEST_CASE("metrics server: GET /metrics answers the counters") {
  Served s(short_limits());
  Client client(s.server.port(), 5s);
  client.send("GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n");
  bool closed = false;
  const auto response = client.read_all(closed);
  CHECK(closed);
  CHECK(response.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  CHECK(response.find("\r\n\r\ngiftgate_up 1\n") != std::string::npos);
}

TEST_CASE("metrics server: another path is not found") {
  Served s(short_limits());
  Client client(s.server.port(), 5s);
  client.send("GET /secrets HTTP/1.0\r\n\r\n");
  bool closed = false;
  CHECK(client.read_all(closed).rfind("HTTP/1.0 404 Not Found\r\n", 0) == 0);
}

TEST_CASE("metrics server: a page added is served at its path, the others still not found") {
  Served s(short_limits());
  std::promise<void> added;
  boost::asio::post(s.io, [&] {
    s.server.add_page("/status", [] { return std::string("a#1 bound\n"); });
    added.set_value();
  });
  added.get_future().wait();
  {
    Client client(s.server.port(), 5s);
    client.send("GET /status HTTP/1.0\r\n\r\n");
    bool closed = false;
    const auto response = client.read_all(closed);
    CHECK(response.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    CHECK(response.find("\r\n\r\na#1 bound\n") != std::string::npos);
  }
  Client other(s.server.port(), 5s);
  other.send("GET /statusx HTTP/1.0\r\n\r\n");
  bool closed = false;
  CHECK(other.read_all(closed).rfind("HTTP/1.0 404 Not Found\r\n", 0) == 0);
}

TEST_CASE("metrics server: a client that sends nothing is closed at the deadline") {
  Served s(short_limits());
  const auto start = std::chrono::steady_clock::now();
  Client client(s.server.port(), 5s);  // far beyond the 300 ms deadline
  bool closed = false;
  const auto response = client.read_all(closed);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(closed);
  CHECK(response.empty());
  CHECK(waited >= 250ms);
  CHECK(waited < 4s);
}

TEST_CASE("metrics server: a request that never ends its headers is refused at the size limit") {
  Served s(short_limits());
  Client client(s.server.port(), 5s);
  // Twice the limit, and no blank line: a server without a limit waits on.
  client.send("GET /metrics HTTP/1.0\r\nX-Padding: " + std::string(2048, 'a'));
  bool closed = false;
  const auto response = client.read_all(closed);
  CHECK(closed);
  CHECK(response.rfind("HTTP/1.0 431 ", 0) == 0);
}

TEST_CASE("metrics server: a failed accept is retried after a pause, not in a tight loop") {
  boost::asio::io_context io;
  MetricsServer server(io, "127.0.0.1", 0, [] { return std::string("giftgate_up 1\n"); },
                       short_limits());
  Client client(server.port(), 5s);
  client.send("GET /metrics HTTP/1.0\r\n\r\n");

  // No descriptor left for accept(): the lowest free one is the limit.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const int lowest_free = ::dup(0);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  // Accepting fails with EMFILE for 500 ms; retried every 100 ms, that is a
  // handful of handlers, where re-arming at once would run thousands.
  const std::size_t handlers = io.run_for(500ms);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  CHECK(handlers >= 2);
  CHECK(handlers <= 20);

  // With descriptors back, the waiting client is served.
  io.run_for(300ms);
  bool closed = false;
  std::thread reader;
  std::string response;
  reader = std::thread([&] { response = client.read_all(closed); });
  io.run_for(1s);
  reader.join();
  CHECK(response.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
}
