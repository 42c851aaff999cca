// The HTTP server: an acceptor and one Connection per socket, each on its
// own strand, so the io_context may be run by one thread or several. The
// handler is called on the connection's strand; a Respond from any thread
// is posted back onto that strand.
//
// Who keeps a connection alive: the server's table of open connections
// (`live`), until the connection ends or close() takes it out; pending
// operations hold it too, as in Beast's examples. A Respond holds only a
// weak_ptr, so an answer to a connection already gone finds nothing and is
// dropped.
#include "daemon/http/server.hpp"

#include <array>
#include <atomic>
#include <limits>
#include <mutex>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace giftgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// After an accept error (out of descriptors, say), the next try waits this
// long: at once would spin on the same error.
constexpr std::chrono::milliseconds accept_retry{100};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_lower(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else out += c;
  }
  out += '"';
}

// A header the handler may set: a token for a name, no line breaks or NUL in
// the value (they would let a value start a header of its own), and none of
// the headers the server writes itself from the body and the keep-alive.
bool settable_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    const bool token = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!token) return false;
  }
  for (const char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  for (const std::string_view own :
       {"content-length", "transfer-encoding", "connection", "content-type", "server"})
    if (equal_lower(name, own)) return false;
  return true;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (equal_lower(key, name)) return value;
  return {};
}

Response error_response(unsigned status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.body = "{\"error\":{\"code\":";
  append_json_string(r.body, code);
  r.body += ",\"message\":";
  append_json_string(r.body, message);
  r.body += "}}";
  return r;
}

bool is_loopback(std::string_view address) {
  if (address == "localhost") return true;
  error_code ec;
  const auto ip = asio::ip::make_address(std::string(address), ec);
  if (ec) return false;
  if (ip.is_v4()) return ip.to_v4().to_bytes()[0] == 127;
  const auto v6 = ip.to_v6();
  if (v6.is_loopback()) return true;
  return v6.is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes()[0] == 127;
}

// What close() and the table of open connections need of a connection,
// whatever its stream.
class Connection {
 public:
  virtual ~Connection() = default;
  // Closes it; callable from any thread (the work is done on its strand).
  virtual void stop() = 0;
};

// What every connection shares: the limits, the handler, the counts and the
// table of open connections.
struct ServerState {
  ServerState(Limits limits, Handler handler, log::Logger logger)
      : limits(limits), handler(std::move(handler)), log(std::move(logger)) {}

  std::optional<ssl::context> tls;
  const Limits limits;
  const Handler handler;
  const log::Logger log;

  // Counts are atomic: counts() reads them from any thread.
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> refusing{0};  // being answered 503, not counted open
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> refused{0};

  std::mutex mutex;  // guards closed and live: accepts and close() may be on different threads
  bool closed = false;
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> live;

  void retire(const Connection* c) {
    std::lock_guard lock(mutex);
    live.erase(c);
  }
};

struct Server::Impl : ServerState, std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Limits limits, Handler handler, log::Logger logger)
      : ServerState(limits, std::move(handler), std::move(logger)),
        io(io),
        acceptor(asio::any_io_executor(asio::make_strand(io))),
        retry(acceptor.get_executor()) {}

  asio::io_context& io;
  tcp::acceptor acceptor;  // on its own strand, as is the retry timer
  asio::steady_timer retry;
  std::uint16_t port = 0;

  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  void close();
};

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One client's socket: requests read one at a time, each handed to the
// handler and its answer written before the next is read.
template <class Stream>
class StreamConnection final : public Connection,
                               public std::enable_shared_from_this<StreamConnection<Stream>> {
 public:
  static constexpr bool tls = std::is_same_v<Stream, TlsStream>;

  // `counted`: open, within max_connections; otherwise the connection is
  // only answered 503 and closed.
  template <class... StreamArgs>
  StreamConnection(std::shared_ptr<ServerState> server, bool counted, std::string peer,
                   StreamArgs&&... stream_args)
      : server_(std::move(server)),
        stream_(std::forward<StreamArgs>(stream_args)...),
        deadline_(stream_.get_executor()),
        peer_(std::move(peer)),
        counted_(counted) {}

  ~StreamConnection() override {
    if (counted_) --server_->open;
    else --server_->refusing;
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void stop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->finish(); });
  }

 private:
  enum class Phase { handshake, idle, reading, handling, writing, closing, closed };

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  const Limits& limits() const { return server_->limits; }

  template <class F>
  auto bind(F f) {
    return [self = this->shared_from_this(), f](auto&&... args) {
      (self.get()->*f)(std::forward<decltype(args)>(args)...);
    };
  }

  void begin() {
    if (phase_ == Phase::closed) return;
    if constexpr (tls) {
      // A handshake left unfinished is closed: there is no HTTP yet to
      // answer with.
      tcp().expires_after(limits().request_timeout);
      stream_.async_handshake(ssl::stream_base::server, bind(&StreamConnection::on_handshake));
    } else {
      after_handshake();
    }
  }

  void on_handshake(error_code ec) {
    if (phase_ == Phase::closed) return;
    if (ec) {
      server_->log.debug("http_tls_handshake_failed", {{"peer", peer_}, {"error", ec.message()}});
      return finish();
    }
    after_handshake();
  }

  void after_handshake() {
    if (!counted_)
      return refuse(503, "too_many_connections", "the server has too many connections open");
    read_request();
  }

  // Between requests on a kept-alive connection: idle_timeout for the next
  // one to start, and the socket closed if it does not.
  void wait_for_request() {
    if (buffer_.size() > 0) return read_request();  // the next one has begun already
    phase_ = Phase::idle;
    tcp().expires_after(limits().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), bind(&StreamConnection::on_idle_read));
  }

  void on_idle_read(error_code ec, std::size_t n) {
    if (phase_ == Phase::closed) return;
    if (ec) return finish();  // idle past the limit (the stream closed itself), or gone
    buffer_.commit(n);
    read_request();
  }

  // One whole request within request_timeout. The stream's own timeout
  // would close the socket, and a 408 could not be written: a timer of our
  // own cancels the read instead.
  void read_request() {
    phase_ = Phase::reading;
    timed_out_ = false;
    tcp().expires_never();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(limits().max_body_bytes));
    deadline_.expires_after(limits().request_timeout);
    deadline_.async_wait(bind(&StreamConnection::on_deadline));
    bhttp::async_read(stream_, buffer_, *parser_, bind(&StreamConnection::on_read));
  }

  void on_deadline(error_code ec) {
    // The read may have ended already with this expiry queued behind it.
    if (ec || phase_ != Phase::reading) return;
    timed_out_ = true;
    error_code ignored;
    tcp().socket().cancel(ignored);
  }

  void on_read(error_code ec, std::size_t) {
    deadline_.cancel();
    if (phase_ == Phase::closed) return;
    if (timed_out_) {
      return refuse(408, "timeout",
                    "the request was not whole within " +
                        std::to_string(limits().request_timeout.count()) + " ms");
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
      return finish();  // the client closed its side
    if (ec == bhttp::error::header_limit) {
      return refuse(431, "header_too_large",
                    "the request's headers are over " + std::to_string(limits().max_header_bytes) +
                        " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      return refuse(413, "body_too_large",
                    "the request's body is over " + std::to_string(limits().max_body_bytes) +
                        " bytes");
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
      return refuse(400, "bad_request", "the request is not valid HTTP/1.1: " + ec.message());
    if (ec) return finish();  // reset, TLS failure: nothing to answer on
    handle();
  }

  void handle() {
    phase_ = Phase::handling;
    auto& message = parser_->get();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = lower(c);
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.client_address = peer_;
    parser_.reset();

    auto once = std::make_shared<std::atomic<bool>>(false);
    std::weak_ptr<StreamConnection> weak = this->shared_from_this();
    Respond respond = [weak, once](Response response) {
      if (once->exchange(true)) return;
      if (auto self = weak.lock()) {
        auto executor = self->stream_.get_executor();
        asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
          self->answer(std::move(response));
        });
      }
    };
    // One catch at the top: a handler that throws costs its own request a
    // 500, never the server.
    Respond fallback = respond;
    try {
      server_->handler(std::move(request), std::move(respond));
    } catch (const std::exception& e) {
      server_->log.error("http_handler_failed", {{"error", e.what()}});
      fallback(error_response(500, "internal_error", "the request could not be handled"));
    }
  }

  void answer(Response response) {
    if (phase_ != Phase::handling) return;  // closed meanwhile: the answer is dropped
    ++server_->requests;
    write(std::move(response));
  }

  // The server's own answer to a request it will not hand on; the
  // connection closes after it.
  void refuse(unsigned status, std::string_view code, const std::string& message) {
    ++server_->refused;
    server_->log.debug("http_refused", {{"peer", peer_}, {"status", status}, {"code", code}});
    keep_alive_ = false;
    write(error_response(status, code, message));
  }

  void write(Response r) {
    phase_ = Phase::writing;
    response_ = {};
    response_.version(version_);
    response_.result(r.status >= 200 && r.status <= 999 ? r.status : 500);
    response_.set(bhttp::field::server, "giftgate");
    const bool bodiless = r.status == 204 || r.status == 304;
    if (!bodiless) {
      response_.set(bhttp::field::content_type, r.content_type);
      response_.body() = std::move(r.body);
      response_.content_length(response_.body().size());
    }
    for (const auto& [name, value] : r.headers) {
      if (settable_header(name, value)) response_.insert(name, value);
      else server_->log.warning("http_header_dropped", {{"name", name}});
    }
    response_.keep_alive(keep_alive_);
    tcp().expires_after(limits().request_timeout);
    bhttp::async_write(stream_, response_, bind(&StreamConnection::on_write));
  }

  void on_write(error_code ec, std::size_t) {
    if (phase_ == Phase::closed) return;
    if (ec) return finish();
    if (!keep_alive_) return linger();
    wait_for_request();
  }

  // Closing with the client's bytes unread would send RST, which may reach
  // the client before the answer does: the send side is shut first and the
  // rest read and dropped, until the client closes or request_timeout.
  void linger() {
    phase_ = Phase::closing;
    tcp().expires_after(limits().request_timeout);
    if constexpr (tls) {
      stream_.async_shutdown(bind(&StreamConnection::on_tls_shutdown));
    } else {
      drain_after_shutdown();
    }
  }

  void on_tls_shutdown(error_code) {
    if (phase_ == Phase::closed) return;
    drain_after_shutdown();
  }

  void drain_after_shutdown() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain();
  }

  void drain() {
    tcp().async_read_some(asio::buffer(discard_), bind(&StreamConnection::on_drain));
  }

  void on_drain(error_code ec, std::size_t) {
    if (phase_ == Phase::closed) return;
    if (ec) return finish();
    drain();
  }

  void finish() {
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    deadline_.cancel();
    tcp().close();
    server_->retire(this);
  }

  std::shared_ptr<ServerState> server_;
  Stream stream_;
  asio::steady_timer deadline_;  // the request's time limit
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::array<char, 512> discard_{};
  const std::string peer_;
  const bool counted_;
  Phase phase_ = Phase::handshake;
  bool timed_out_ = false;
  bool keep_alive_ = false;
  unsigned version_ = 11;
};

}  // namespace

void Server::Impl::accept() {
  // Each socket gets a strand of its own.
  acceptor.async_accept(asio::any_io_executor(asio::make_strand(io)),
                        [self = shared_from_this()](error_code ec, tcp::socket socket) {
                          self->on_accept(ec, std::move(socket));
                        });
}

void Server::Impl::on_accept(error_code ec, tcp::socket socket) {
  {
    std::lock_guard lock(mutex);
    if (closed) return;
  }
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    log.warning("http_accept_failed", {{"error", ec.message()}});
    retry.expires_after(accept_retry);
    retry.async_wait([self = shared_from_this()](error_code wait) {
      if (!wait) self->accept();
    });
    return;
  }
  accept();

  error_code peer_ec;
  const auto peer = socket.remote_endpoint(peer_ec);
  if (peer_ec) return;  // gone already
  // An answer is one write; Nagle would hold its last segment back.
  socket.set_option(tcp::no_delay(true), peer_ec);

  const bool counted = open.load() < limits.max_connections;
  if (!counted && refusing.load() >= limits.max_connections) {
    // Even the 503s are past the limit: closed without a word.
    ++refused;
    return;
  }
  if (counted) ++open;
  else ++refusing;
  if (!counted) log.info("http_too_many_connections", {{"peer", peer.address().to_string()}});

  std::shared_ptr<Connection> connection;
  auto start = [&](auto made) {
    connection = made;
    std::lock_guard lock(mutex);
    if (closed) return false;
    live.emplace(connection.get(), connection);
    return true;
  };
  if (tls) {
    auto c = std::make_shared<StreamConnection<TlsStream>>(
        shared_from_this(), counted, peer.address().to_string(), std::move(socket), *tls);
    if (start(c)) c->start();
  } else {
    auto c = std::make_shared<StreamConnection<PlainStream>>(
        shared_from_this(), counted, peer.address().to_string(), std::move(socket));
    if (start(c)) c->start();
  }
}

void Server::Impl::close() {
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> taken;
  {
    std::lock_guard lock(mutex);
    if (closed) return;
    closed = true;
    taken.swap(live);
  }
  asio::dispatch(acceptor.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor.close(ignored);
    self->retry.cancel();
  });
  for (auto& [key, connection] : taken) connection->stop();
}

namespace {

// The certificate chain and its key into `context`, TLS 1.2 at least; false
// with `why` naming the file at fault.
bool load_tls(ssl::context& context, const TlsFiles& files, std::string& why) {
  error_code ec;
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                      ec);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.use_certificate_chain_file(files.certificate, ec);
  if (ec) {
    why = "cannot use the TLS certificate " + files.certificate + ": " + ec.message();
    return false;
  }
  context.use_private_key_file(files.key, ssl::context::pem, ec);
  if (ec) {
    // OpenSSL checks the key against the certificate as it loads it.
    const auto code = static_cast<unsigned long>(ec.value());
    const bool mismatch = ERR_GET_LIB(code) == ERR_LIB_X509 &&
                          (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH ||
                           ERR_GET_REASON(code) == X509_R_KEY_TYPE_MISMATCH);
    why = mismatch ? "the TLS key " + files.key + " does not match the certificate " +
                         files.certificate
                   : "cannot use the TLS key " + files.key + ": " + ec.message();
    return false;
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    why = "the TLS key " + files.key + " does not match the certificate " + files.certificate;
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Server> Server::start(asio::io_context& io, const std::string& address,
                                      std::uint16_t port, std::optional<TlsFiles> tls,
                                      Limits limits, Handler handler, log::Logger logger,
                                      std::string* error) {
  const auto fail = [error](std::string why) -> std::unique_ptr<Server> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  if (!tls && !is_loopback(address))
    return fail("plain HTTP is served on loopback only; give api.tls_certificate and api.tls_key");
  error_code ec;
  const auto ip = asio::ip::make_address(address == "localhost" ? "127.0.0.1" : address, ec);
  if (ec) return fail("not an IP address: " + address);

  auto impl = std::make_shared<Impl>(io, limits, std::move(handler), std::move(logger));
  if (tls) {
    impl->tls.emplace(ssl::context::tls_server);
    std::string why;
    if (!load_tls(*impl->tls, *tls, why)) return fail(why);
  }
  const tcp::endpoint endpoint(ip, port);
  const auto where = address + ":" + std::to_string(port);
  auto& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + where + ": " + ec.message());
  impl->port = acceptor.local_endpoint(ec).port();
  impl->log.info("http_listening",
                 {{"address", address}, {"port", impl->port}, {"tls", tls.has_value()}});
  impl->accept();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { close(); }

std::uint16_t Server::port() const { return impl_->port; }

void Server::close() { impl_->close(); }

Server::Counts Server::counts() const {
  Counts c;
  c.open = impl_->open.load();
  c.requests = impl_->requests.load();
  c.refused = impl_->refused.load();
  return c;
}

}  // namespace giftgate::http
