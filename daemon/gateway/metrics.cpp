#include "daemon/gateway/metrics.hpp"

#include <istream>

#include <boost/asio/read_until.hpp>
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

MetricsServer::MetricsServer(asio::io_context& io, const std::string& address, std::uint16_t port,
                             Body body)
    : acceptor_(io, tcp::endpoint(asio::ip::make_address(address == "localhost" ? "127.0.0.1"
                                                                                : address),
                                  port)),
      body_(std::move(body)) {
  accept();
}

std::uint16_t MetricsServer::port() const { return acceptor_.local_endpoint().port(); }

void MetricsServer::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void MetricsServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      struct Exchange {
        explicit Exchange(tcp::socket s) : socket(std::move(s)), request(8192) {}
        tcp::socket socket;
        asio::streambuf request;  // a request line and headers, no more
        std::string response;
      };
      auto x = std::make_shared<Exchange>(std::move(socket));
      asio::async_read_until(
          x->socket, x->request, "\r\n\r\n", [this, x](boost::system::error_code rec, std::size_t) {
            if (rec) return;
            std::istream in(&x->request);
            std::string method, path;
            in >> method >> path;
            const bool ok = method == "GET" && (path == "/metrics" || path == "/");
            const std::string body = ok ? body_() : "not found\n";
            x->response = std::string(ok ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.0 404 Not Found\r\n") +
                          "Content-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
            asio::async_write(x->socket, asio::buffer(x->response),
                              [x](boost::system::error_code, std::size_t) {
                                boost::system::error_code ignored;
                                x->socket.shutdown(tcp::socket::shutdown_both, ignored);
                              });
          });
    }
    accept();
  });
}

}  // namespace giftgate
