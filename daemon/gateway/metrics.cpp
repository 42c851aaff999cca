#include "daemon/gateway/metrics.hpp"

#include <array>
#include <istream>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace giftgate {

std::string label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace asio = boost::asio;
using asio::ip::tcp;

struct MetricsServer::Exchange {
  Exchange(tcp::socket s, std::size_t max_request)
      : socket(std::move(s)), deadline(socket.get_executor()), request(max_request) {}
  tcp::socket socket;
  asio::steady_timer deadline;
  asio::streambuf request;  // a request line and headers, no more
  std::string response;
  std::array<char, 512> discard;

  // Sends FIN and reads to the client's end (or the deadline) before
  // closing: closing with its request unread would send RST, which may
  // reach the client before the answer does.
  void linger(std::shared_ptr<Exchange> self) {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    drain(std::move(self));
  }

  void drain(std::shared_ptr<Exchange> self) {
    socket.async_read_some(asio::buffer(discard), [self](boost::system::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->drain(self);
    });
  }

  void close() {
    boost::system::error_code ignored;
    deadline.cancel();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

MetricsServer::MetricsServer(asio::io_context& io, const std::string& address, std::uint16_t port,
                             Body body, Limits limits)
    : acceptor_(io, tcp::endpoint(asio::ip::make_address(address == "localhost" ? "127.0.0.1"
                                                                                : address),
                                  port)),
      accept_retry_(io),
      body_(std::move(body)),
      limits_(limits) {
  accept();
}

std::uint16_t MetricsServer::port() const { return acceptor_.local_endpoint().port(); }

void MetricsServer::add_page(std::string path, Body body) { pages_[std::move(path)] = std::move(body); }

void MetricsServer::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
}

void MetricsServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, say: trying again at once would spin on the
      // same error; a moment later some may be free.
      accept_retry_.expires_after(limits_.accept_retry);
      accept_retry_.async_wait([this](boost::system::error_code wait) {
        if (!wait && acceptor_.is_open()) accept();
      });
      return;
    }
    serve(std::make_shared<Exchange>(std::move(socket), limits_.max_request));
    accept();
  });
}

void MetricsServer::serve(std::shared_ptr<Exchange> x) {
  // The whole exchange, reading and writing, within the deadline.
  x->deadline.expires_after(limits_.deadline);
  x->deadline.async_wait([x](boost::system::error_code ec) {
    if (!ec) x->close();
  });
  asio::async_read_until(
      x->socket, x->request, "\r\n\r\n", [this, x](boost::system::error_code rec, std::size_t) {
        std::string status;
        std::string body;
        if (rec == asio::error::not_found) {
          // The streambuf is full and the headers have not ended.
          status = "431 Request Header Fields Too Large";
          body = "request too large\n";
        } else if (rec) {
          return x->close();  // gone, or closed at the deadline
        } else {
          std::istream in(&x->request);
          std::string method, path;
          in >> method >> path;
          const auto page = pages_.find(path);
          const bool metrics = path == "/metrics" || path == "/";
          const bool ok = method == "GET" && (metrics || page != pages_.end());
          status = ok ? "200 OK" : "404 Not Found";
          body = !ok ? "not found\n" : metrics ? body_() : page->second();
        }
        x->response = "HTTP/1.0 " + status +
                      "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        asio::async_write(x->socket, asio::buffer(x->response),
                          [x](boost::system::error_code ec, std::size_t) {
                            if (ec) return x->close();
                            x->linger(x);
                          });
      });
}

}  // namespace giftgate
