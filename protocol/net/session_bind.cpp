// Session::Impl, the connection's life: connect (TCP, TLS), bind, the
// keep-alive, unbind, stop, and the reconnect after a failure.
#include "protocol/net/session_impl.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace giftgate::smpp {

void Session::Impl::set_state(SessionState next, std::error_code reason) {
  const SessionState previous = owner.state_.exchange(next);
  if (previous == next) return;
  {
    std::lock_guard lock(stats_mutex);
    stats.bound_since = next == SessionState::bound ? std::chrono::system_clock::now()
                                                    : std::chrono::system_clock::time_point{};
  }
  if (s.return_queued_when_down) {
    if (next == SessionState::bound) submits.accept_offers();
    else submits.refuse_offers(make_error_code(errc::not_bound));
  }
  if (reason)
    log.info("smpp_state", {{"from", to_string(previous)}, {"to", to_string(next)},
                            {"reason", reason.message()}});
  else
    log.info("smpp_state", {{"from", to_string(previous)}, {"to", to_string(next)}});
  if (state_handler) state_handler(next, reason);
}

void Session::Impl::do_connect() {
  if (stopping()) return;
  ++generation;
  framer = Framer(s.max_pdu_length);
  out.clear();
  flow.reset();
  writing = false;
  reading = false;
  close_after_flush.reset();
  set_state(SessionState::connecting);
  count(&SessionStats::connects);
  if (tls_setup_failed) {
    fail_connection(make_error_code(errc::tls_handshake_failed));
    return;
  }
  arm_phase(s.connect_timeout, errc::connect_timeout);
  resolver.async_resolve(
      s.host, std::to_string(s.port),
      on_strand([self = self(), this, gen = generation](boost::system::error_code ec,
                                                        tcp::resolver::results_type results) {
        if (gen != generation) return;
        if (ec) return fail_connection(ec);
        on_resolve(results);
      }));
}

void Session::Impl::on_resolve(const tcp::resolver::results_type& results) {
  tcp::socket* raw = nullptr;
  if (s.tls.enabled) {
    tls = std::make_unique<ssl::stream<tcp::socket>>(strand, tls_context);
    raw = &tls->next_layer();
  } else {
    socket = std::make_unique<tcp::socket>(strand);
    raw = socket.get();
  }
  asio::async_connect(*raw, results,
                      on_strand([self = self(), this, gen = generation](
                                    boost::system::error_code ec, const tcp::endpoint& peer) {
                        if (gen != generation) return;
                        if (ec) return fail_connection(ec);
                        // Small PDUs, each awaited by the peer: Nagle would
                        // hold one back for the peer's delayed ACK (40 ms).
                        boost::system::error_code ignored;
                        (tls ? tls->next_layer() : *socket)
                            .set_option(tcp::no_delay(true), ignored);
                        log.debug("smpp_connected", {{"peer", peer.address().to_string()},
                                                     {"port", peer.port()}});
                        if (tls) return do_handshake();
                        do_bind();
                      }));
}

void Session::Impl::do_handshake() {
  const std::string name = s.tls.server_name.empty() ? s.host : s.tls.server_name;
  SSL_set_tlsext_host_name(tls->native_handle(), name.c_str());
  if (s.tls.verify) tls->set_verify_callback(ssl::host_name_verification(name));
  tls->async_handshake(ssl::stream_base::client,
                       on_strand([self = self(), this, gen = generation](
                                     boost::system::error_code ec) {
                         if (gen != generation) return;
                         if (ec) {
                           log.warning("smpp_tls_handshake", {{"error", ec.message()}});
                           return fail_connection(make_error_code(errc::tls_handshake_failed));
                         }
                         do_bind();
                       }));
}

void Session::Impl::do_bind() {
  set_state(SessionState::binding);
  BindRequest bind;
  bind.kind = s.bind;
  bind.system_id = s.system_id;
  bind.password = s.password;
  bind.system_type = s.system_type;
  bind.addr_ton = s.addr_ton;
  bind.addr_npi = s.addr_npi;
  bind.address_range = s.address_range;
  const std::uint32_t seq = track_new(Request::bind, s.bind_timeout);
  write(Pdu{status::ok, seq, std::move(bind)});
  do_read();
}

void Session::Impl::on_bind_response(const Pdu& pdu) {
  if (pdu.command_status == status::ok) {
    reconnect_backoff.reset();
    count(&SessionStats::binds);
    phase_timer.cancel();
    const auto* resp = pdu.as<BindResponse>();
    const auto version = resp->tlvs.u8(tag::sc_interface_version);
    log.info("smpp_bound", {{"smsc_system_id", resp->system_id},
                            {"sc_interface_version",
                             version ? fmt::format("0x{:02X}", *version) : "absent"}});
    last_received = Clock::now();
    set_state(SessionState::bound);
    arm_idle();
    pump();
    return;
  }
  count(&SessionStats::bind_failures);
  log.warning("smpp_bind_refused", {{"status", status_name(pdu.command_status)}});
  std::string why = fmt::format("bind refused: 0x{:08X}", pdu.command_status);
  if (pdu.command_status == status::already_bound) {
    // The SMSC still holds our previous bind: release it, then back off.
    begin_unbind(make_error_code(errc::bind_refused), std::move(why));
    return;
  }
  fail_connection(make_error_code(errc::bind_refused), std::move(why));
}

void Session::Impl::arm_phase(std::chrono::milliseconds timeout, errc reason) {
  phase_timer.expires_after(timeout);
  phase_timer.async_wait(
      on_strand([self = self(), this, gen = generation, reason](boost::system::error_code ec) {
        if (ec || gen != generation) return;
        fail_connection(make_error_code(reason));
      }));
}

void Session::Impl::fail_connection(std::error_code reason, std::string why) {
  if (!connected() && owner.state_.load() == SessionState::closed && !stopping()) return;
  log.warning("smpp_connection_closed", {{"reason", reason.message()}});
  note_error(why.empty() ? reason.message() : std::move(why));
  ++generation;
  boost::system::error_code ignored;
  resolver.cancel();
  if (tls) tls->next_layer().close(ignored);
  if (socket) socket->close(ignored);
  tls.reset();
  socket.reset();
  phase_timer.cancel();
  idle_timer.cancel();
  window_timer.cancel();
  window_timer_armed = false;
  out.clear();
  flow.reset();
  writing = false;
  enquire_outstanding = false;
  close_after_flush.reset();

  // Written but unanswered: the SMSC may have taken them.
  tracker.clear();
  if (s.return_queued_when_down) {
    // Refused first, so an owner that offers a failed submit straight
    // back gets it returned instead of queued here.
    submits.refuse_offers(make_error_code(errc::not_bound));
    submits.fail_in_flight(make_error_code(errc::connection_lost), true);
    // Never written: the owner may send them through another bind now.
    submits.return_queued(make_error_code(errc::connection_lost));
  } else {
    submits.fail_in_flight(make_error_code(errc::connection_lost), true);
  }
  publish_window();

  set_state(SessionState::closed, reason);
  if (stopping()) return finish_stop();
  const auto delay = reconnect_backoff.next();
  log.info("smpp_reconnect", {{"in_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                            delay)
                                            .count()}});
  retry_timer.expires_after(delay);
  retry_timer.async_wait(on_strand([self = self(), this](boost::system::error_code ec) {
    if (!ec) do_connect();
  }));
}

void Session::Impl::arm_idle() {
  const auto now = Clock::now();
  auto when = last_received + s.enquire_link_interval;
  if (when <= now) when = now + s.enquire_link_interval;
  idle_timer.expires_at(when);
  idle_timer.async_wait(on_strand([self = self(), this, gen = generation](
                                      boost::system::error_code ec) {
    if (ec || gen != generation) return;
    if (owner.state_.load() != SessionState::bound) return;
    if (Clock::now() - last_received >= s.enquire_link_interval && !enquire_outstanding) {
      enquire_outstanding = true;
      count(&SessionStats::enquire_links_sent);
      const std::uint32_t seq = track_new(Request::enquire_link, s.response_timeout);
      write(Pdu{status::ok, seq, EnquireLink{}});
      last_received = Clock::now();  // measure the next idle spell from here
    }
    arm_idle();
  }));
}

void Session::Impl::begin_unbind(std::error_code reason, std::string why) {
  unbind_reason = reason;
  unbind_detail = std::move(why);
  set_state(SessionState::unbinding, reason);
  idle_timer.cancel();
  const std::uint32_t seq = track_new(Request::unbind, s.unbind_timeout);
  write(Pdu{status::ok, seq, Unbind{}});
}

void Session::Impl::unbind_when_drained() {
  if (stopping() && submits.in_flight() == 0 && owner.state_.load() == SessionState::bound)
    begin_unbind(make_error_code(errc::stopped));
}

void Session::Impl::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  if (stopping()) {
    if (done) asio::post(strand, std::move(done));
    return;
  }
  stop_done = std::move(done);
  log.info("smpp_stopping", {{"queued", submits.queued()}, {"in_flight", submits.in_flight()}});
  submits.stop();
  retry_timer.cancel();
  send_timer.cancel();

  if (owner.state_.load() != SessionState::bound) {
    if (connected() || owner.state_.load() != SessionState::closed)
      return fail_connection(make_error_code(errc::stopped));
    return finish_stop();
  }
  if (submits.in_flight() == 0) return begin_unbind(make_error_code(errc::stopped));
  phase_timer.expires_after(drain);
  phase_timer.async_wait(on_strand([self = self(), this, gen = generation](
                                       boost::system::error_code ec) {
    if (ec || gen != generation || owner.state_.load() != SessionState::bound) return;
    // The window did not drain in time: what is left is in doubt.
    tracker.forget(Request::submit);
    submits.fail_in_flight(make_error_code(errc::stopped), true);
    begin_unbind(make_error_code(errc::stopped));
  }));
}

void Session::Impl::finish_stop() {
  resolver.cancel();
  retry_timer.cancel();
  send_timer.cancel();
  phase_timer.cancel();
  idle_timer.cancel();
  window_timer.cancel();
  set_state(SessionState::closed, make_error_code(errc::stopped));
  log.info("smpp_stopped");
  if (stop_done) {
    auto done = std::move(stop_done);
    stop_done = nullptr;
    done();
  }
}

}  // namespace giftgate::smpp
