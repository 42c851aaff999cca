// A session whose SMSC stops reading: the session's write queue fills to its
// bound, the session stops reading in turn, and once the SMSC reads again
// every PDU is written, none dropped. The SMSC here is a bare loopback
// socket (the simulator always reads); every wait is bounded.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "protocol/codec.hpp"
#include "protocol/net/session.hpp"
#include "tests/integration/session_fixture.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using giftgate::test::eventually;

namespace {

bool read_exactly(int fd, std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(fd, data, n, 0);
    if (got <= 0) return false;
    data += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

bool send_all(int fd, const std::vector<std::uint8_t>& octets) {
  std::size_t sent = 0;
  while (sent < octets.size()) {
    const ssize_t n = ::send(fd, octets.data() + sent, octets.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

TEST_CASE("session: an SMSC that stops reading pauses the session's reading, and nothing is dropped") {
  // The SMSC's side: a small receive buffer, so the session's answers back
  // up soon after the SMSC stops reading.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  const int small = 4096;
  ::setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread net([&] { io.run(); });

  smpp::SessionSettings settings;
  settings.name = "backpressure";
  settings.port = ntohs(addr.sin_port);
  settings.system_id = "giftgate";
  settings.window = 1;
  settings.max_inbound_pending = 1;  // write queue bound: 1 + 1 + 64
  settings.enquire_link_interval = 600s;
  auto session = smpp::Session::create(io.get_executor(), settings, log::Logger{});
  session->start();

  const int smsc = ::accept(listener, nullptr, nullptr);
  REQUIRE(smsc >= 0);
  timeval tv{10, 0};  // no read below waits for ever
  ::setsockopt(smsc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(smsc, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  // The bind, answered.
  std::uint8_t header[16];
  REQUIRE(read_exactly(smsc, header, sizeof header));
  smpp::Header h;
  REQUIRE(smpp::read_header(header, h));
  std::vector<std::uint8_t> body(h.command_length - 16);
  REQUIRE(read_exactly(smsc, body.data(), body.size()));
  std::vector<std::uint8_t> octets;
  REQUIRE_FALSE(smpp::encode(
      smpp::Pdu{smpp::status::ok, h.sequence_number,
                smpp::BindResponse{smpp::BindKind::transceiver, "smsc", {}}},
      octets));
  REQUIRE(send_all(smsc, octets));
  REQUIRE(eventually([&] { return session->state() == smpp::SessionState::bound; }));

  // Many enquire_links, and the SMSC reads none of the answers for now.
  constexpr std::uint32_t kRequests = 100000;
  std::vector<std::uint8_t> burst;
  for (std::uint32_t seq = 1; seq <= kRequests; ++seq) {
    octets.clear();
    REQUIRE_FALSE(smpp::encode(smpp::Pdu{smpp::status::ok, seq, smpp::EnquireLink{}}, octets));
    burst.insert(burst.end(), octets.begin(), octets.end());
  }
  std::atomic<bool> sent{false};
  std::thread writer([&] { sent = send_all(smsc, burst); });

  // Without a bound the session would read on and queue answers for ever.
  CHECK(eventually([&] { return session->stats().read_pauses > 0; }, 20s));

  // The SMSC reads again: every enquire_link is answered, in order.
  std::uint32_t answered = 0;
  bool in_order = true;
  while (answered < kRequests) {
    if (!read_exactly(smsc, header, sizeof header)) break;
    REQUIRE(smpp::read_header(header, h));
    body.resize(h.command_length - 16);
    if (!read_exactly(smsc, body.data(), body.size())) break;
    if (h.command_id != static_cast<std::uint32_t>(smpp::CommandId::enquire_link_resp)) continue;
    ++answered;
    in_order = in_order && h.sequence_number == answered;
  }
  writer.join();
  CHECK(sent);
  CHECK(answered == kRequests);
  CHECK(in_order);
  CHECK(session->stats().enquire_links_answered == kRequests);

  auto done = std::make_shared<std::atomic<bool>>(false);
  session->stop(0ms, [done] { done->store(true); });
  ::close(smsc);
  CHECK(eventually([&] { return done->load(); }));
  work.reset();
  io.stop();
  net.join();
  ::close(listener);
}
