// The gateway's connections to its SMSCs: opening them, what each can take,
// their rate shared by those bound, and what happens when one comes or goes.
#include <algorithm>

#include <fmt/format.h>

#include "daemon/gateway/gateway.hpp"

namespace giftgate {
namespace {

// Unanswered MOs a session holds before it stops reading (see kMaxWaiting
// in gateway.cpp).
constexpr std::size_t kInboundRoom = 1024;

// One connection's session settings: its entry's, named after the
// connection, its share of the entry's rate until share_rate() runs, and a
// queue that goes back to the outbox when the connection does (another
// connection can send it now).
smpp::SessionSettings connection_settings(const SmscEntry& e, int bind) {
  smpp::SessionSettings s = e.session;
  s.name = fmt::format("{}#{}", e.id, bind);
  s.max_inbound_pending = std::max(s.max_inbound_pending, kInboundRoom);
  s.return_queued_when_down = true;
  if (s.rate > 0) {
    s.rate /= static_cast<double>(e.binds);
    s.burst = std::max(1.0, s.rate / 10);
  }
  return s;
}

}  // namespace

void Gateway::open_connections(boost::asio::any_io_executor net) {
  for (std::size_t i = 0; i < config_.daemon.smscs.size(); ++i) {
    const SmscEntry& e = config_.daemon.smscs[i];
    smscs_.push_back({smpp::IdFormatLearner(e.response_ids), smpp::IdFormatLearner(e.receipt_ids)});
    for (int b = 1; b <= static_cast<int>(e.binds); ++b) {
      Conn c;
      c.smsc = i;
      c.bind = b;
      c.name = fmt::format("{}#{}", e.id, b);
      c.link = std::make_unique<smpp::Link>(
          net, connection_settings(e, b),
          e.split_bind ? smpp::Link::Mode::transmitter_and_receiver : smpp::Link::Mode::transceiver,
          log_);
      conns_.push_back(std::move(c));
    }
  }
}

std::string Gateway::connection_epoch(const Conn& c) const {
  return fmt::format("{}.{}.{}", process_epoch_, c.name, c.binds);
}

std::size_t Gateway::room_of(const Conn& c) const {
  const std::size_t most = entry(c).session.window * 2;
  return c.bound && c.in_flight < most ? most - c.in_flight : 0;
}

std::size_t Gateway::backlog_limit() const {
  // Four windows of what is bound now (of one connection when none is).
  std::size_t windows = 0;
  for (const auto& c : conns_)
    if (c.bound) windows += entry(c).session.window;
  if (windows == 0 && !conns_.empty()) windows = entry(conns_.front()).session.window;
  return windows * 4;
}

void Gateway::share_rate(std::size_t smsc) {
  const SmscEntry& e = config_.daemon.smscs[smsc];
  if (e.session.rate <= 0) return;  // no limit to share
  std::size_t bound = 0;
  for (const auto& c : conns_)
    if (c.smsc == smsc && c.bound) ++bound;
  // Those down are set alike, but send nothing: the Router hands parts only
  // to connections counted bound, and counting one calls this again.
  const double share = e.session.rate / static_cast<double>(std::max<std::size_t>(bound, 1));
  for (auto& c : conns_)
    if (c.smsc == smsc) c.link->set_rate(share, std::max(1.0, share / 10));
}

std::string Gateway::last_error(const Conn& c) const {
  std::string why = c.link->transmitter()->stats().last_error;
  return why.empty() ? c.link->receiver()->stats().last_error : why;
}

void Gateway::on_link_state(std::size_t conn, bool now_bound) {
  Conn& c = conns_[conn];
  const bool was_bound = c.bound;
  c.bound = now_bound;
  if (now_bound == was_bound) return;
  if (now_bound) {
    ++c.binds;
    c.bound_since = now();
    outbox_dirty_ = true;
    batch_.join();
  } else {
    c.bound_since = {};
    // Their connection is gone: the SMSC sends them again.
    waiting_.drain_if([conn](const Waiting& w) { return w.conn == conn; }, [](Waiting&) {});
  }
  share_rate(c.smsc);
  std::size_t up = 0;
  for (const auto& k : conns_) up += k.bound ? 1 : 0;
  if (now_bound)
    log_.info("smsc_bound", {{"connection", c.name}, {"connections_up", up}});
  else
    log_.warning("smsc_down", {{"connection", c.name}, {"reason", last_error(c)},
                                {"connections_up", up}});
}

}  // namespace giftgate
