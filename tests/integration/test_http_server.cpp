// The HTTP server on real loopback sockets: a Beast client (plain and TLS)
// against http::Server run by a thread of its own. Every client operation
// has a time limit (the stream's expiry, and run_for behind it); every wait
// on the server's thread is bounded.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// GCC, with the sanitizers on, sees an uninitialised boost::optional in
// Beast's response parser (content_length_unchecked) that is not there;
// -Werror would make that false alarm an error.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include "daemon/http/server.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

// The server on a thread of its own, and what its handler saw. In `hold`
// mode the handler keeps each Respond for the test to call.
struct ServerUnderTest {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{asio::make_work_guard(io)};
  std::shared_ptr<log::MemorySink> sink = std::make_shared<log::MemorySink>();
  std::unique_ptr<http::Server> server;
  std::string error;
  std::thread thread;

  bool hold = false;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<http::Request> seen;
  std::vector<http::Respond> held;

  bool start(http::Limits limits, std::optional<http::TlsFiles> tls = std::nullopt,
             const std::string& address = "127.0.0.1") {
    server = http::Server::start(
        io, address, 0, std::move(tls), limits,
        [this](http::Request request, http::Respond respond) { handle(std::move(request), respond); },
        log::Logger(sink, log::Level::debug), &error);
    if (server) thread = std::thread([this] { io.run(); });
    return server != nullptr;
  }

  void handle(http::Request request, const http::Respond& respond) {
    if (request.target == "/throw") throw std::runtime_error("the handler fell over");
    const std::string body = request.method + " " + request.target + " " + request.body;
    {
      std::lock_guard lock(mutex);
      seen.push_back(std::move(request));
      if (hold) held.push_back(respond);
    }
    changed.notify_all();
    if (!hold) {
      http::Response r;
      r.body = body;
      r.content_type = "text/plain";
      r.headers.emplace_back("Retry-After", "7");
      r.headers.emplace_back("X-Bad", "a\r\nInjected: yes");
      respond(std::move(r));
    }
  }

  std::size_t seen_count() {
    std::lock_guard lock(mutex);
    return seen.size();
  }

  bool wait_held(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return held.size() >= n; });
  }

  ~ServerUnderTest() {
    server.reset();
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A client on its own io_context, run only inside each call, for at most
// `limit`.
template <class Stream>
class Client {
 public:
  Client() : stream_(io_) {}
  explicit Client(ssl::context& context) : stream_(io_, context) {}

  error_code connect(std::uint16_t port) {
    const asio::ip::tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
    return run([&](auto done) { lowest().async_connect(to, done); });
  }

  error_code handshake() {
    stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    return run([&](auto done) { stream_.async_handshake(ssl::stream_base::client, done); });
  }

  error_code send(const std::string& raw) {
    out_ = raw;
    return run([&](auto done) { asio::async_write(stream_, asio::buffer(out_), done); });
  }

  // The next answer, or nullopt (closed, timed out) with last_error saying why.
  std::optional<bhttp::response<bhttp::string_body>> receive(std::chrono::milliseconds limit = 3s) {
    bhttp::response<bhttp::string_body> response;
    last_error = run([&](auto done) { bhttp::async_read(stream_, buffer_, response, done); }, limit);
    if (last_error) return std::nullopt;
    return response;
  }

  // Reads whatever comes next: the error says how the connection ended
  // (end of stream when the server closed it), `bytes` what came before.
  error_code read_to_end(std::chrono::milliseconds limit, std::size_t& bytes) {
    bytes = buffer_.size();
    for (;;) {
      std::size_t got = 0;
      const error_code ec = run(
          [&](auto done) {
            stream_.async_read_some(buffer_.prepare(1024), [&, done](error_code e, std::size_t n) {
              got = n;
              done(e, n);
            });
          },
          limit);
      buffer_.commit(got);
      bytes += got;
      if (ec) return ec;
    }
  }

  Stream& stream() { return stream_; }
  error_code last_error;

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  template <class Start>
  error_code run(Start start, std::chrono::milliseconds limit = 3s) {
    error_code result = asio::error::timed_out;
    bool finished = false;
    lowest().expires_after(limit);
    io_.restart();
    start([&](error_code ec, auto&&...) {
      result = ec;
      finished = true;
    });
    io_.run_for(limit + 1s);
    if (!finished) result = asio::error::timed_out;
    return result;
  }

  asio::io_context io_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::string out_;
};

using PlainClient = Client<beast::tcp_stream>;

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

http::Limits short_limits() {
  http::Limits limits;
  limits.request_timeout = 2000ms;
  limits.idle_timeout = 2000ms;
  return limits;
}

// A CA and a server certificate for 127.0.0.1 from scripts/api-cert.sh, in a
// folder of their own.
std::filesystem::path make_certificates(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("giftgate-http-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string command = "'" GIFTGATE_SOURCE_DIR "/scripts/api-cert.sh' '" + dir.string() +
                              "' localhost 127.0.0.1 >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  return dir;
}

http::TlsFiles files_in(const std::filesystem::path& dir) {
  return {(dir / "server.pem").string(), (dir / "server.key").string()};
}

bool has_code(const bhttp::response<bhttp::string_body>& r, const std::string& code) {
  return r.body().find("{\"error\":{\"code\":\"" + code + "\",\"message\":\"") == 0;
}

}  // namespace

TEST_CASE("http: a GET and a POST reach the handler whole, and its answer comes back with the server's headers") {
  ServerUnderTest s;
  REQUIRE(s.start(short_limits()));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));

  REQUIRE_FALSE(c.send(get("/v1/ping?date=2026-12-02", "X-Thing: Alpha\r\n")));
  auto first = c.receive();
  REQUIRE(first);
  CHECK(first->result_int() == 200);
  CHECK(first->body() == "GET /v1/ping?date=2026-12-02 ");
  CHECK((*first)[bhttp::field::server] == "giftgate");
  CHECK((*first)[bhttp::field::content_type] == "text/plain");
  CHECK((*first)[bhttp::field::content_length] == std::to_string(first->body().size()));
  CHECK((*first)["Retry-After"] == "7");
  // A value with a line break would have started a header of its own.
  CHECK((*first)["X-Bad"].empty());
  CHECK((*first)["Injected"].empty());

  const std::string body = R"({"code":"ABC-123"})";
  REQUIRE_FALSE(c.send("POST /v1/verifications HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer secret-token\r\nContent-Type: application/json\r\n"
                       "Content-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body));
  auto second = c.receive();
  REQUIRE(second);
  CHECK(second->body() == "POST /v1/verifications " + body);

  std::lock_guard lock(s.mutex);
  REQUIRE(s.seen.size() == 2);
  const auto& g = s.seen[0];
  CHECK(g.method == "GET");
  CHECK(g.target == "/v1/ping?date=2026-12-02");
  CHECK(g.body.empty());
  CHECK(g.client_address == "127.0.0.1");
  REQUIRE(g.headers.size() == 2);
  CHECK(g.headers[0] == std::pair<std::string, std::string>("host", "127.0.0.1"));
  CHECK(g.headers[1] == std::pair<std::string, std::string>("x-thing", "Alpha"));
  CHECK(g.header("X-THING") == "Alpha");
  CHECK(g.header("absent").empty());
  const auto& p = s.seen[1];
  CHECK(p.method == "POST");
  CHECK(p.target == "/v1/verifications");
  CHECK(p.body == body);
  CHECK(p.header("authorization") == "Bearer secret-token");
  CHECK(p.header("content-type") == "application/json");
  CHECK(s.server->counts().requests == 2);
  // Neither the body nor the credentials reach the log.
  CHECK_FALSE(s.sink->contains("secret-token"));
  CHECK_FALSE(s.sink->contains("ABC-123"));
}

TEST_CASE("http: keep-alive serves two requests on one connection, and Connection: close ends it") {
  ServerUnderTest s;
  REQUIRE(s.start(short_limits()));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/one")));
  auto one = c.receive();
  REQUIRE(one);
  CHECK(one->keep_alive());
  REQUIRE_FALSE(c.send(get("/two")));
  auto two = c.receive();
  REQUIRE(two);
  CHECK(two->body() == "GET /two ");
  CHECK(s.server->counts().open == 1);

  REQUIRE_FALSE(c.send(get("/three", "Connection: close\r\n")));
  auto three = c.receive();
  REQUIRE(three);
  CHECK(three->body() == "GET /three ");
  CHECK((*three)[bhttp::field::connection] == "close");
  std::size_t bytes = 0;
  CHECK(c.read_to_end(1500ms, bytes) == asio::error::eof);
  CHECK(bytes == 0);
  CHECK(s.seen_count() == 3);
  CHECK(eventually([&] { return s.server->counts().open == 0; }));
}

TEST_CASE("http: an answer given from another thread is written") {
  ServerUnderTest s;
  s.hold = true;
  REQUIRE(s.start(short_limits()));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/later")));
  REQUIRE(s.wait_held(1));
  http::Respond respond;
  {
    std::lock_guard lock(s.mutex);
    respond = s.held[0];
  }
  std::thread other([respond] { respond(http::error_response(409, "conflict", "already used")); });
  other.join();
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(answer->result_int() == 409);
  CHECK(answer->body() == R"({"error":{"code":"conflict","message":"already used"}})");
  CHECK((*answer)[bhttp::field::content_type] == "application/json");
  // A second call is ignored: the request was answered once.
  std::thread again([respond] { respond(http::Response{}); });
  again.join();
  REQUIRE_FALSE(c.send(get("/next")));
  REQUIRE(s.wait_held(2));
}

TEST_CASE("http: headers past max_header_bytes are answered 431 header_too_large and the connection closed") {
  ServerUnderTest s;
  auto limits = short_limits();
  limits.max_header_bytes = 1024;
  REQUIRE(s.start(limits));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/", "X-Big: " + std::string(4000, 'a') + "\r\n")));
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(answer->result_int() == 431);
  CHECK(has_code(*answer, "header_too_large"));
  CHECK((*answer)[bhttp::field::content_type] == "application/json");
  CHECK_FALSE(answer->keep_alive());
  std::size_t bytes = 0;
  CHECK(c.read_to_end(1500ms, bytes) == asio::error::eof);
  CHECK(s.seen_count() == 0);
  CHECK(s.server->counts().refused == 1);
}

TEST_CASE("http: a Content-Length past max_body_bytes is answered 413 before the body is read, without the handler") {
  ServerUnderTest s;
  auto limits = short_limits();
  limits.max_body_bytes = 1024;
  limits.request_timeout = 5000ms;
  REQUIRE(s.start(limits));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  const auto sent = std::chrono::steady_clock::now();
  // Only the headers: the answer must not wait for a body.
  REQUIRE_FALSE(c.send("POST /v1/things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"));
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(std::chrono::steady_clock::now() - sent < 2s);
  CHECK(answer->result_int() == 413);
  CHECK(has_code(*answer, "body_too_large"));
  CHECK_FALSE(answer->keep_alive());
  CHECK(s.seen_count() == 0);

  // A body within the limit still goes through.
  PlainClient d;
  REQUIRE_FALSE(d.connect(s.server->port()));
  REQUIRE_FALSE(d.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" +
                       std::string(1024, 'b')));
  auto ok = d.receive();
  REQUIRE(ok);
  CHECK(ok->result_int() == 200);
}

TEST_CASE("http: bytes that are not HTTP are answered 400 bad_request") {
  ServerUnderTest s;
  REQUIRE(s.start(short_limits()));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send("\x01\x02 hello there\r\n\r\n"));
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(answer->result_int() == 400);
  CHECK(has_code(*answer, "bad_request"));
  std::size_t bytes = 0;
  CHECK(c.read_to_end(1500ms, bytes) == asio::error::eof);
  CHECK(s.seen_count() == 0);
}

TEST_CASE("http: a request not whole within request_timeout is answered 408 timeout") {
  ServerUnderTest s;
  auto limits = short_limits();
  limits.request_timeout = 300ms;
  REQUIRE(s.start(limits));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  const auto sent = std::chrono::steady_clock::now();
  REQUIRE_FALSE(c.send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"));  // and no more
  auto answer = c.receive(3s);
  const auto waited = std::chrono::steady_clock::now() - sent;
  REQUIRE(answer);
  CHECK(answer->result_int() == 408);
  CHECK(has_code(*answer, "timeout"));
  CHECK(waited >= 250ms);
  CHECK(waited < 2s);
  CHECK(s.seen_count() == 0);
}

TEST_CASE("http: a kept-alive connection idle past idle_timeout is closed without an answer") {
  ServerUnderTest s;
  auto limits = short_limits();
  limits.idle_timeout = 300ms;
  limits.request_timeout = 5000ms;
  REQUIRE(s.start(limits));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/once")));
  REQUIRE(c.receive());
  const auto answered = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  CHECK(c.read_to_end(3s, bytes) == asio::error::eof);
  const auto waited = std::chrono::steady_clock::now() - answered;
  CHECK(bytes == 0);
  CHECK(waited >= 250ms);
  CHECK(waited < 2500ms);
  CHECK(eventually([&] { return s.server->counts().open == 0; }));
}

TEST_CASE("http: a connection past max_connections is answered 503 too_many_connections") {
  ServerUnderTest s;
  auto limits = short_limits();
  limits.max_connections = 2;
  REQUIRE(s.start(limits));
  PlainClient a, b, c;
  REQUIRE_FALSE(a.connect(s.server->port()));
  REQUIRE_FALSE(b.connect(s.server->port()));
  REQUIRE(eventually([&] { return s.server->counts().open == 2; }));
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/third")));
  auto refused = c.receive();
  REQUIRE(refused);
  CHECK(refused->result_int() == 503);
  CHECK(has_code(*refused, "too_many_connections"));
  CHECK_FALSE(refused->keep_alive());
  CHECK(s.seen_count() == 0);
  CHECK(s.server->counts().open == 2);
  CHECK(s.server->counts().refused == 1);
  // The two within the limit are served.
  REQUIRE_FALSE(a.send(get("/first")));
  auto served = a.receive();
  REQUIRE(served);
  CHECK(served->result_int() == 200);
}

TEST_CASE("http: a handler that throws costs its request a 500, not the server") {
  ServerUnderTest s;
  REQUIRE(s.start(short_limits()));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/throw")));
  auto answer = c.receive();
  REQUIRE(answer);
  CHECK(answer->result_int() == 500);
  CHECK(has_code(*answer, "internal_error"));
  REQUIRE_FALSE(c.send(get("/after")));
  auto after = c.receive();
  REQUIRE(after);
  CHECK(after->result_int() == 200);
}

TEST_CASE("http: close() with a request at the handler closes the connection, and the late answer is dropped") {
  ServerUnderTest s;
  s.hold = true;
  REQUIRE(s.start(short_limits()));
  PlainClient c;
  REQUIRE_FALSE(c.connect(s.server->port()));
  REQUIRE_FALSE(c.send(get("/pending")));
  REQUIRE(s.wait_held(1));
  http::Respond respond;
  {
    std::lock_guard lock(s.mutex);
    respond = s.held[0];
  }
  s.server->close();
  std::size_t bytes = 0;
  const auto ended = c.read_to_end(3s, bytes);
  CHECK((ended == asio::error::eof || ended == asio::error::connection_reset));
  CHECK(bytes == 0);
  CHECK(eventually([&] { return s.server->counts().open == 0; }));
  std::thread late([respond] { respond(http::Response{}); });
  late.join();
  CHECK(s.server->counts().requests == 0);
  // No one is listening any more.
  PlainClient d;
  CHECK(d.connect(s.server->port()));
  s.server.reset();
}

TEST_CASE("http: TLS with a certificate the client verifies against its CA, and a client without the CA refused") {
  const auto dir = make_certificates("tls");
  ServerUnderTest s;
  REQUIRE(s.start(short_limits(), files_in(dir)));

  ssl::context trusting(ssl::context::tls_client);
  trusting.load_verify_file((dir / "ca.pem").string());
  trusting.set_verify_mode(ssl::verify_peer);
  Client<TlsStream> good(trusting);
  REQUIRE_FALSE(good.connect(s.server->port()));
  REQUIRE_FALSE(good.handshake());
  REQUIRE_FALSE(good.send(get("/secure")));
  auto answer = good.receive();
  REQUIRE(answer);
  CHECK(answer->result_int() == 200);
  CHECK(answer->body() == "GET /secure ");
  CHECK(SSL_version(good.stream().native_handle()) >= TLS1_2_VERSION);

  ssl::context stranger(ssl::context::tls_client);
  stranger.set_verify_mode(ssl::verify_peer);  // and no CA that signed it
  Client<TlsStream> bad(stranger);
  REQUIRE_FALSE(bad.connect(s.server->port()));
  const auto ec = bad.handshake();
  REQUIRE(ec);
  CHECK(ec.category() == asio::error::get_ssl_category());
  CHECK(ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED);
  CHECK(eventually([&] { return s.sink->contains("http_tls_handshake_failed"); }));
  CHECK(s.seen_count() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("http: start() refuses plain HTTP off loopback, and a key that is not the certificate's") {
  asio::io_context io;
  std::string error;
  const auto handler = [](http::Request, http::Respond) {};
  const log::Logger quiet(std::make_shared<log::MemorySink>(), log::Level::debug);
  CHECK(http::Server::start(io, "0.0.0.0", 0, std::nullopt, {}, handler, quiet, &error) == nullptr);
  CHECK(error == "plain HTTP is served on loopback only; give api.tls_certificate and api.tls_key");

  CHECK(http::is_loopback("127.0.0.1"));
  CHECK(http::is_loopback("127.8.9.10"));
  CHECK(http::is_loopback("::1"));
  CHECK(http::is_loopback("localhost"));
  CHECK_FALSE(http::is_loopback("0.0.0.0"));
  CHECK_FALSE(http::is_loopback("::"));
  CHECK_FALSE(http::is_loopback("10.1.2.3"));
  CHECK_FALSE(http::is_loopback("example.org"));
  error.clear();
  CHECK(http::Server::start(io, "localhost", 0, std::nullopt, {}, handler, quiet, &error) != nullptr);
  CHECK(error.empty());

  const auto a = make_certificates("a");
  const auto b = make_certificates("b");
  // TLS is allowed on any address.
  CHECK(http::Server::start(io, "0.0.0.0", 0, files_in(a), {}, handler, quiet, &error) != nullptr);
  http::TlsFiles mixed{(a / "server.pem").string(), (b / "server.key").string()};
  CHECK(http::Server::start(io, "127.0.0.1", 0, mixed, {}, handler, quiet, &error) == nullptr);
  CHECK(error == "the TLS key " + mixed.key + " does not match the certificate " + mixed.certificate);
  http::TlsFiles missing{(a / "absent.pem").string(), (a / "server.key").string()};
  CHECK(http::Server::start(io, "127.0.0.1", 0, missing, {}, handler, quiet, &error) == nullptr);
  CHECK(error.find("cannot use the TLS certificate " + missing.certificate) == 0);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST_CASE("http: error_response escapes its message as JSON") {
  const auto r = http::error_response(400, "bad_request", "a \"quoted\" back\\slash\nnew\x01 \xe4\xb8\xad");
  CHECK(r.status == 400);
  CHECK(r.content_type == "application/json");
  CHECK(r.body == "{\"error\":{\"code\":\"bad_request\",\"message\":"
                  "\"a \\\"quoted\\\" back\\\\slash\\u000anew\\u0001 \xe4\xb8\xad\"}}");
}
