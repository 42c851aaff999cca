// giftctl status: what the running giftgated says of its SMSCs and binds,
// read from its metrics endpoint's /status page (loopback HTTP; giftctl
// needs no database for it).
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

#include "daemon/giftctl/giftctl.hpp"

namespace giftgate::ctl {
namespace {

constexpr auto kTimeout = std::chrono::seconds(5);
constexpr std::size_t kMaxAnswer = 1 << 20;

// One GET over loopback; the body, or nullopt with `error`.
std::optional<std::string> http_get(const std::string& host, std::uint16_t port,
                                    const std::string& path, std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string address = host == "localhost" ? "127.0.0.1" : host;
  if (const int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    *error = fmt::format("{}: {}", address, ::gai_strerror(rc));
    return std::nullopt;
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  const int connect_errno = errno;
  ::freeaddrinfo(found);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    *error = fmt::format("nothing answers on {}:{} ({}): is giftgated running, with this "
                         "configuration's metrics.listen and metrics.port?",
                         address, port, std::strerror(connect_errno));
    return std::nullopt;
  }
  const std::string request =
      fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\n\r\n", path, address);
  std::string answer;
  bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size());
  const auto until = std::chrono::steady_clock::now() + kTimeout;
  while (ok) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ok = false;
      break;
    }
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 || answer.size() > kMaxAnswer) ok = false;
    else answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto body = answer.find("\r\n\r\n");
  if (!ok || body == std::string::npos || answer.rfind("HTTP/1.0 200", 0) != 0) {
    *error = fmt::format("giftgated on {}:{} gave no status (an older giftgated, or it did not "
                         "answer within {} s)",
                         address, port, kTimeout.count());
    return std::nullopt;
  }
  return answer.substr(body + 4);
}

}  // namespace

int Ctl::status() {
  if (config_.daemon.metrics_port == 0)
    return refused("metrics.port is 0: giftgated serves no status page with this configuration");
  std::string error;
  const auto body = http_get(config_.daemon.metrics_listen, config_.daemon.metrics_port, "/status",
                             &error);
  if (!body) return refused(error);
  std::cout << *body;
  return kOk;
}

}  // namespace giftgate::ctl
