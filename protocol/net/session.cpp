#include "protocol/net/session.hpp"

#include <algorithm>

#include <deque>
#include <mutex>
#include <optional>
#include <random>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "protocol/codec.hpp"
#include "protocol/error.hpp"
#include "protocol/framer.hpp"
#include "protocol/net/pacing.hpp"
#include "protocol/net/read_flow.hpp"
#include "protocol/net/request_tracker.hpp"
#include "protocol/net/submit_window.hpp"
#include "protocol/net/tls.hpp"

namespace giftgate::smpp {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

std::string_view to_string(SessionState state) {
  switch (state) {
    case SessionState::connecting: return "connecting";
    case SessionState::binding: return "binding";
    case SessionState::bound: return "bound";
    case SessionState::unbinding: return "unbinding";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

namespace {

constexpr std::size_t kMaxWriteBatch = 64;  // PDUs per write

using Request = RequestTracker::Kind;

std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

}  // namespace

struct Session::Impl {
  Impl(Session& owner, asio::any_io_executor executor, SessionSettings settings,
       log::Logger logger)
      : owner(owner),
        s(std::move(settings)),
        log(logger.child({{"smsc", s.name}, {"bind", std::string(to_string(s.bind))}})),
        strand(asio::make_strand(executor)),
        tls_context(ssl::context::tls_client),
        resolver(strand),
        phase_timer(strand),
        idle_timer(strand),
        window_timer(strand),
        send_timer(strand),
        retry_timer(strand),
        framer(s.max_pdu_length),
        tracker(s.bind, s.first_sequence),
        submits({std::max<std::size_t>(s.window, 1), s.max_queue, s.bind != BindKind::receiver},
                [this](SubmitOutcome::Kind kind) { count_outcome(kind); }),
        flow(s.max_inbound_pending,
             ReadFlow::write_queue_bound(std::max<std::size_t>(s.window, 1),
                                         std::max<std::size_t>(s.max_inbound_pending, 1))),
        pacer(s.rate, std::max(1.0, s.burst), s.throttle_pause, s.throttle_pause_max,
              random_seed(), Clock::now()),
        reconnect_backoff(s.reconnect_min, s.reconnect_max, s.reconnect_jitter, random_seed()) {
    s.window = std::max<std::size_t>(s.window, 1);
    s.max_inbound_pending = std::max<std::size_t>(s.max_inbound_pending, 1);
    tls_setup_failed = s.tls.enabled && !configure_tls_context(tls_context, s, log);
    stats.rate = std::max(s.rate, 0.0);
    // Not bound yet: with return_queued_when_down nothing waits for the bind.
    if (s.return_queued_when_down) submits.refuse_offers(make_error_code(errc::not_bound));
  }

  // ------------------------------------------------------------ plumbing

  std::shared_ptr<Session> self() { return owner.shared_from_this(); }

  template <class F>
  auto on_strand(F&& f) {
    return asio::bind_executor(strand, std::forward<F>(f));
  }

  template <class F>
  void with_stream(F&& f) {
    if (tls) f(*tls);
    else if (socket) f(*socket);
  }

  bool connected() const { return socket || tls; }
  bool stopping() const { return submits.stopped(); }

  template <class Field>
  void count(Field SessionStats::*field, std::uint64_t by = 1) {
    std::lock_guard lock(stats_mutex);
    stats.*field += by;
  }

  // Called by the window before each outcome's handler runs, with the
  // submit already out of the queue or the window.
  void count_outcome(SubmitOutcome::Kind kind) {
    std::lock_guard lock(stats_mutex);
    switch (kind) {
      case SubmitOutcome::Kind::sent: ++stats.sent; break;
      case SubmitOutcome::Kind::failed: ++stats.failed; break;
      case SubmitOutcome::Kind::returned: ++stats.returned; break;
    }
    window_to_stats();
  }

  // Copies the window's sizes into the stats, so stats() can read them
  // from any thread; called under stats_mutex wherever they change.
  void window_to_stats() {
    stats.in_flight = submits.in_flight();
    stats.queued = submits.queued();
  }

  void publish_window() {
    std::lock_guard lock(stats_mutex);
    window_to_stats();
  }

  // Why the last connection closed or bind failed, for the status page.
  void note_error(std::string why) {
    std::lock_guard lock(stats_mutex);
    stats.last_error = std::move(why);
  }

  void set_state(SessionState next, std::error_code reason = {}) {
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

  // ------------------------------------------------------------ connecting

  void do_connect() {
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

  void on_resolve(const tcp::resolver::results_type& results) {
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

  void do_handshake() {
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

  void do_bind() {
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

  void on_bind_response(const Pdu& pdu) {
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

  void arm_phase(std::chrono::milliseconds timeout, errc reason) {
    phase_timer.expires_after(timeout);
    phase_timer.async_wait(
        on_strand([self = self(), this, gen = generation, reason](boost::system::error_code ec) {
          if (ec || gen != generation) return;
          fail_connection(make_error_code(reason));
        }));
  }

  // Closes the connection, settles everything in flight and, unless stopping,
  // schedules the next attempt. `why` says more than `reason` for the
  // status page (the SMSC's status of a refused bind).
  void fail_connection(std::error_code reason, std::string why = {}) {
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

  // ------------------------------------------------------------ reading

  void do_read() {
    if (reading || flow.paused() || !connected()) return;
    reading = true;
    auto space = framer.prepare(16384);
    with_stream([&](auto& stream) {
      stream.async_read_some(
          asio::buffer(space.data(), space.size()),
          on_strand([self = self(), this, gen = generation](boost::system::error_code ec,
                                                            std::size_t n) {
            if (gen != generation) return;
            reading = false;
            if (ec) return fail_connection(make_error_code(errc::connection_lost));
            last_read = Clock::now();
            framer.commit(n);
            on_read();
          }));
    });
  }

  void on_read() {
    last_received = Clock::now();
    const std::uint64_t gen = generation;
    std::span<const std::uint8_t> frame;
    for (;;) {
      // Too many unanswered, or too much to write: the rest stays buffered
      // (and unread) until answers or writes drain, so neither the work
      // taken in nor the write queue outgrows its bound.
      if (flow.full()) break;
      const auto status = framer.next(frame);
      if (status == Framer::Status::need_more) break;
      if (status == Framer::Status::bad_length) {
        count(&SessionStats::malformed);
        log.warning("smpp_bad_command_length", {{"command_length", framer.bad_command_length()}});
        // The stream cannot be resynchronised: nack, then start afresh.
        Pdu nack{status::invalid_command_length, 0, GenericNack{}};
        write(nack);
        close_after_flush = make_error_code(framer.bad_command_length() < 16 ? errc::pdu_too_short
                                                                             : errc::pdu_too_long);
        return;
      }
      if (status == Framer::Status::oversized) {
        on_oversized(frame);
        continue;
      }
      handle_frame(frame);
      if (gen != generation) return;  // the connection was closed meanwhile
    }
    if (flow.full()) {
      const auto reason = flow.pause();
      count(&SessionStats::read_pauses);
      log.debug("smpp_read_paused", {{"pending", flow.unanswered()},
                                     {"write_queue", flow.write_queue()},
                                     {"reason", reason}});
      return;
    }
    do_read();
  }

  // A PDU longer than max_pdu_length, read past: a request is refused with
  // generic_nack, a response left to its request's timeout.
  void on_oversized(std::span<const std::uint8_t> header_octets) {
    Header header;
    read_header(header_octets, header);
    count(&SessionStats::malformed);
    log.warning("smpp_pdu_too_long", {{"command_length", framer.bad_command_length()},
                                      {"command_id", fmt::format("0x{:08X}", header.command_id)},
                                      {"sequence", header.sequence_number},
                                      {"max", s.max_pdu_length}});
    if (!is_response(header.command_id))
      write(Pdu{status::invalid_command_length, header.sequence_number, GenericNack{}});
  }

  void handle_frame(std::span<const std::uint8_t> frame) {
    Header header;
    read_header(frame, header);
    Pdu pdu;
    std::string detail;
    DecodeLimits limits;
    limits.max_pdu_length = s.max_pdu_length;
    if (const auto ec = decode(frame, pdu, limits, &detail)) {
      const auto command_id = fmt::format("0x{:08X}", header.command_id);
      if (ec == errc::unknown_command) {
        // Well formed, perhaps, but nothing this ESME serves (query_sm,
        // cancel_sm, replace_sm, submit_multi, vendor commands).
        count(&SessionStats::refused);
        log.warning("smpp_unsupported_command",
                    {{"command_id", command_id}, {"sequence", header.sequence_number}});
      } else {
        count(&SessionStats::malformed);
        log.warning("smpp_malformed_pdu", {{"command_id", command_id},
                                           {"sequence", header.sequence_number},
                                           {"error", ec.message()},
                                           {"field", detail}});
      }
      // A malformed response is left to its request's timeout.
      if (!is_response(header.command_id))
        write(Pdu{nack_status_for(ec), header.sequence_number, GenericNack{}});
      return;
    }
    if (const std::size_t unknown = unknown_tlv_count(pdu); unknown > 0) {
      // Vendors' own optional parameters: skipped, as SMPP 3.4 asks.
      count(&SessionStats::tlvs_skipped, unknown);
      log.debug("smpp_tlvs_skipped",
                {{"command", to_string(pdu.command_id())}, {"count", unknown}});
    }
    if (is_response(header.command_id)) return on_response(pdu);
    on_request(pdu);
  }

  // Every request the SMSC sends ends in one of: handed to the owner
  // (deliver_sm, data_sm), answered here (enquire_link, unbind), noted
  // (alert_notification and outbind, which SMPP 3.4 gives no response), or
  // refused with an error the SMSC acts on; each is counted.
  void on_request(const Pdu& pdu) {
    switch (pdu.command_id()) {
      case CommandId::enquire_link:
        count(&SessionStats::enquire_links_answered);
        write(Pdu{status::ok, pdu.sequence_number, EnquireLinkResp{}});
        return;
      case CommandId::unbind:
        log.info("smpp_peer_unbind");
        write(Pdu{status::ok, pdu.sequence_number, UnbindResp{}});
        set_state(SessionState::unbinding, make_error_code(errc::peer_unbound));
        close_after_flush = make_error_code(errc::peer_unbound);
        return;
      case CommandId::deliver_sm:
      case CommandId::data_sm:
        return on_inbound(pdu);
      case CommandId::alert_notification: {
        // The SMSC says a member it could not reach is reachable again;
        // the outbox resends on its own schedule, so it is only noted.
        count(&SessionStats::notifications);
        const auto* a = pdu.as<AlertNotification>();
        const auto availability = a->tlvs.u8(tag::ms_availability_status);
        log.info("smpp_alert_notification",
                 {{"availability", availability ? std::to_string(*availability) : "absent"}});
        return;
      }
      case CommandId::outbind:
        // Asks for a bind on a connection the SMSC opened; on ours, which is
        // bound already, there is nothing to do.
        count(&SessionStats::notifications);
        log.warning("smpp_outbind_ignored", {{"reason", "already connected"}});
        return;
      default: {
        // bind_* and submit_sm are the ESME's to send, not the SMSC's.
        count(&SessionStats::refused);
        log.warning("smpp_unexpected_request", {{"command", to_string(pdu.command_id())},
                                                {"sequence", pdu.sequence_number}});
        write(refusal(pdu.command_id(), pdu.sequence_number, status::invalid_command_id));
        return;
      }
    }
  }

  // The command's own response carrying an error status, or generic_nack
  // for commands without one.
  static Pdu refusal(CommandId request, std::uint32_t sequence, std::uint32_t command_status) {
    switch (response_command(request).value_or(CommandId::generic_nack)) {
      case CommandId::bind_transmitter_resp:
        return {command_status, sequence, BindResponse{BindKind::transmitter, {}, {}}};
      case CommandId::bind_receiver_resp:
        return {command_status, sequence, BindResponse{BindKind::receiver, {}, {}}};
      case CommandId::bind_transceiver_resp:
        return {command_status, sequence, BindResponse{BindKind::transceiver, {}, {}}};
      case CommandId::submit_sm_resp: return {command_status, sequence, SubmitSmResp{}};
      default: return {command_status, sequence, GenericNack{}};
    }
  }

  void on_inbound(const Pdu& pdu) {
    const auto response = *response_command(pdu.command_id());
    if (owner.state_.load() != SessionState::bound || stopping() || !inbound_handler) {
      // Not now: the SMSC keeps the message and delivers it again later.
      write_inbound_response(response, pdu.sequence_number, status::temporary_app_error);
      return;
    }
    count(&SessionStats::inbound);
    flow.taken();
    inbound_handler(pdu, Responder(self(), generation, pdu.command_id(), pdu.sequence_number));
  }

  void write_inbound_response(CommandId response, std::uint32_t seq, std::uint32_t status) {
    if (response == CommandId::data_sm_resp) write(Pdu{status, seq, DataSmResp{}});
    else write(Pdu{status, seq, DeliverSmResp{}});
  }

  void respond(std::uint64_t gen, CommandId request, std::uint32_t seq, std::uint32_t status) {
    if (gen != generation) {
      log.info("smpp_response_dropped", {{"sequence", seq}, {"reason", "connection gone"}});
      return;
    }
    write_inbound_response(*response_command(request), seq, status);
    if (flow.answered()) resume_reading();
  }

  // Frames already buffered first; posted, because the caller may be in
  // the middle of answering a batch.
  void resume_reading() {
    log.debug("smpp_read_resumed",
              {{"pending", flow.unanswered()}, {"write_queue", flow.write_queue()}});
    asio::post(strand, [self = self(), this, gen = generation] {
      if (gen == generation && !flow.paused()) on_read();
    });
  }

  void on_response(const Pdu& pdu) {
    const auto answered = tracker.answer(pdu.sequence_number, pdu.command_id());
    if (!answered) {
      // Answers nothing we asked (a late answer after its timeout, or the
      // wrong command): what waits for that sequence number waits on.
      count(&SessionStats::unexpected_responses);
      log.warning("smpp_unexpected_response", {{"command", to_string(pdu.command_id())},
                                               {"sequence", pdu.sequence_number}});
      return;
    }
    switch (*answered) {
      case Request::bind:
        if (pdu.command_id() == CommandId::generic_nack) {
          count(&SessionStats::bind_failures);
          return fail_connection(
              make_error_code(errc::bind_refused),
              fmt::format("bind refused: generic_nack 0x{:08X}", pdu.command_status));
        }
        return on_bind_response(pdu);
      case Request::enquire_link:
        enquire_outstanding = false;
        return;
      case Request::unbind:
        return fail_connection(unbind_reason, unbind_detail);
      case Request::submit:
        on_submit_response(pdu);
        pump();
        unbind_when_drained();
        return;
    }
  }

  void unbind_when_drained() {
    if (stopping() && submits.in_flight() == 0 && owner.state_.load() == SessionState::bound)
      begin_unbind(make_error_code(errc::stopped));
  }

  void on_submit_response(const Pdu& pdu) {
    const std::uint32_t st = pdu.command_status;
    const std::uint32_t seq = pdu.sequence_number;
    if (pdu.command_id() == CommandId::generic_nack)
      return submits.settle(seq, submit_failed(make_error_code(errc::generic_nack), st, false));
    const auto* resp = pdu.as<SubmitSmResp>();
    if (st == status::ok) {
      pacer.accepted();
      SubmitOutcome outcome;
      outcome.kind = SubmitOutcome::Kind::sent;
      outcome.message_id = resp->message_id;
      outcome.tlvs = resp->tlvs;
      return submits.settle(seq, std::move(outcome));
    }
    if (st == status::throttled || st == status::message_queue_full) {
      // Not an outcome: the message waits at the front and sending pauses.
      count(&SessionStats::throttled);
      submits.requeue(seq);
      publish_window();
      // The rest of a window sent before the pause began is refused too:
      // one pause for them all, longer only if refusals go on after it.
      const auto pause = pacer.throttled(Clock::now());
      if (!pause) return;
      log.warning("smpp_throttled",
                  {{"status", status_name(st)},
                   {"pause_ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(*pause).count()}});
      return;
    }
    SubmitOutcome outcome = submit_failed(make_error_code(errc::submit_rejected), st, false);
    outcome.tlvs = resp->tlvs;
    submits.settle(seq, std::move(outcome));
  }

  // ------------------------------------------------------------ writing

  void write(const Pdu& pdu) {
    std::vector<std::uint8_t> octets;
    std::string detail;
    if (const auto ec = encode(pdu, octets, &detail)) {
      log.error("smpp_encode_failed", {{"command", to_string(pdu.command_id())},
                                       {"error", ec.message()}, {"field", detail}});
      return;
    }
    out.push_back(std::move(octets));
    flow.queued();
    do_write();
  }

  void do_write() {
    if (writing || out.empty() || !connected()) return;
    writing = true;
    // Everything queued goes in one write (up to a bound): one system call
    // and one completion for a burst of PDUs instead of one each.
    std::vector<asio::const_buffer> buffers;
    for (const auto& pdu : out) {
      if (buffers.size() == kMaxWriteBatch) break;
      buffers.emplace_back(asio::buffer(pdu));
    }
    with_stream([&](auto& stream) {
      asio::async_write(stream, buffers,
                        on_strand([self = self(), this, gen = generation,
                                   n = buffers.size()](boost::system::error_code ec, std::size_t) {
                          if (gen != generation) return;
                          writing = false;
                          if (ec) return fail_connection(make_error_code(errc::connection_lost));
                          out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
                          // A full queue paused reading; it resumes here.
                          if (flow.wrote(n)) resume_reading();
                          if (!out.empty()) return do_write();
                          if (close_after_flush) fail_connection(*close_after_flush);
                        }));
    });
  }

  // ------------------------------------------------------------ requests

  // A new request, waiting for its answer until `timeout` from now.
  std::uint32_t track_new(Request kind, std::chrono::milliseconds timeout) {
    const std::uint32_t seq = tracker.allocate();
    tracker.track(seq, kind, Clock::now() + timeout);
    arm_window_timer();
    return seq;
  }

  void arm_window_timer() {
    const auto next = tracker.next_deadline();
    if (!next) return;
    const auto when = *next;
    if (window_timer_armed && window_timer.expiry() <= when) return;
    window_timer_armed = true;
    window_timer.expires_at(when);
    window_timer.async_wait(on_strand([self = self(), this, gen = generation](
                                          boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted || gen != generation) return;
      window_timer_armed = false;
      sweep();
    }));
  }

  void sweep() {
    const auto now = Clock::now();
    const std::uint64_t gen = generation;
    while (const auto expired = tracker.pop_expired(now)) {
      switch (expired->kind) {
        case Request::submit: {
          count(&SessionStats::response_timeouts);
          const bool silent = silent_since(expired->deadline - s.response_timeout);
          submits.settle(expired->sequence,
                         submit_failed(make_error_code(errc::response_timeout), 0, true));
          if (silent && gen == generation) {
            // Not a lost answer but a dead SMSC: waiting for enquire_link
            // to find out would take another interval and timeout, with
            // submits going into a void meanwhile.
            count(&SessionStats::peer_silent);
            log.warning("smpp_peer_silent", {{"sequence", expired->sequence},
                                             {"waited_ms", s.response_timeout.count()}});
            fail_connection(make_error_code(errc::peer_silent));
          }
          break;
        }
        case Request::enquire_link:
          count(&SessionStats::peer_silent);
          fail_connection(make_error_code(errc::peer_silent));
          break;
        case Request::bind:
          count(&SessionStats::bind_failures);
          fail_connection(make_error_code(errc::bind_timeout));
          break;
        case Request::unbind:
          fail_connection(unbind_reason, unbind_detail);
          break;
      }
      if (gen != generation) return;
    }
    arm_window_timer();
    pump();
    unbind_when_drained();
  }

  // Whether nothing at all came from the SMSC since `written`: no read
  // completed, none is held back by ReadFlow, and no octet waits in the
  // socket (its read handler may be queued behind this timer's).
  bool silent_since(Clock::time_point written) {
    if (last_read >= written || flow.paused()) return false;
    boost::system::error_code ec;
    std::size_t waiting = 0;
    if (tls) waiting = tls->next_layer().available(ec);
    else if (socket) waiting = socket->available(ec);
    return ec || waiting == 0;
  }

  void arm_idle() {
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

  void begin_unbind(std::error_code reason, std::string why = {}) {
    unbind_reason = reason;
    unbind_detail = std::move(why);
    set_state(SessionState::unbinding, reason);
    idle_timer.cancel();
    const std::uint32_t seq = track_new(Request::unbind, s.unbind_timeout);
    write(Pdu{status::ok, seq, Unbind{}});
  }

  // ------------------------------------------------------------ submits

  void enqueue(SubmitSm message, Session::SubmitHandler handler) {
    submits.offer(std::move(message), std::move(handler));
    publish_window();
    pump();
  }

  void set_rate(double rate, double burst) {
    rate = std::max(rate, 0.0);
    pacer.set_rate(rate, std::max(1.0, burst), Clock::now());
    {
      std::lock_guard lock(stats_mutex);
      stats.rate = rate;
    }
    log.info("smpp_rate", {{"rate", rate}, {"burst", burst}});
    // A submit held for the old rate may go sooner (or later) now.
    if (send_timer_armed) {
      ++send_timer_epoch;
      send_timer_armed = false;
      send_timer.cancel();
    }
    pump();
  }

  // Writes what the window, the rate and any throttling pause allow now.
  void pump() {
    while (owner.state_.load() == SessionState::bound && !stopping() && submits.can_write()) {
      const auto now = Clock::now();
      if (const auto until = pacer.hold(now)) return arm_send_timer(*until);
      auto next = submits.take_next();
      const std::uint32_t seq = tracker.allocate();
      std::vector<std::uint8_t> octets;
      std::string detail;
      if (const auto ec = encode(Pdu{status::ok, seq, next.message}, octets, &detail)) {
        log.warning("smpp_submit_unencodable", {{"error", ec.message()}, {"field", detail}});
        submits.settle_unwritten(std::move(next), submit_failed(ec, 0, false));
        continue;
      }
      tracker.track(seq, Request::submit, now + s.response_timeout);
      arm_window_timer();
      submits.written(seq, std::move(next));
      count(&SessionStats::submits_written);
      {
        std::lock_guard lock(stats_mutex);
        stats.max_window_used = std::max<std::uint64_t>(stats.max_window_used, submits.in_flight());
        window_to_stats();
      }
      out.push_back(std::move(octets));
      flow.queued();
      do_write();
    }
  }

  void arm_send_timer(Clock::time_point when) {
    if (send_timer_armed) return;
    send_timer_armed = true;
    send_timer.expires_at(when);
    send_timer.async_wait(on_strand([self = self(), this, epoch = send_timer_epoch](
                                        boost::system::error_code ec) {
      // A wait given up by set_rate: a newer one (or none) is armed.
      if (epoch != send_timer_epoch) return;
      send_timer_armed = false;
      if (!ec) pump();
    }));
  }

  // ------------------------------------------------------------ stopping

  void stop(std::chrono::milliseconds drain, std::function<void()> done) {
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

  void finish_stop() {
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

  // ------------------------------------------------------------ state

  Session& owner;
  SessionSettings s;
  log::Logger log;
  asio::strand<asio::any_io_executor> strand;
  ssl::context tls_context;
  bool tls_setup_failed = false;
  tcp::resolver resolver;
  std::unique_ptr<tcp::socket> socket;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  asio::steady_timer phase_timer;   // connect, bind or drain deadline
  asio::steady_timer idle_timer;    // enquire_link after idle
  asio::steady_timer window_timer;  // earliest response deadline
  asio::steady_timer send_timer;    // rate limit and throttling pauses
  asio::steady_timer retry_timer;   // reconnect back-off
  bool window_timer_armed = false;
  bool send_timer_armed = false;
  std::uint64_t send_timer_epoch = 0;  // bumped when a wait is abandoned

  Framer framer;
  std::deque<std::vector<std::uint8_t>> out;  // encoded, not yet written; flow bounds it
  bool writing = false;
  bool reading = false;
  std::optional<std::error_code> close_after_flush;

  std::uint64_t generation = 0;  // bumped per connection; stale handlers compare it
  RequestTracker tracker;
  SubmitWindow submits;
  ReadFlow flow;
  SendPacer pacer;
  Backoff reconnect_backoff;
  bool enquire_outstanding = false;
  Clock::time_point last_received{};  // also moved on when an enquire_link is sent
  Clock::time_point last_read{};      // when octets last came from the SMSC

  bool started = false;
  std::error_code unbind_reason;
  std::string unbind_detail;  // for last_error when the unbind ends the connection
  std::function<void()> stop_done;

  Session::InboundHandler inbound_handler;
  Session::StateHandler state_handler;

  mutable std::mutex stats_mutex;
  SessionStats stats;
};

// ---------------------------------------------------------------- Session

Session::Session(asio::any_io_executor executor, SessionSettings settings, log::Logger logger)
    : impl_(std::make_unique<Impl>(*this, std::move(executor), std::move(settings),
                                   std::move(logger))) {}

Session::~Session() = default;

std::shared_ptr<Session> Session::create(asio::any_io_executor executor,
                                         SessionSettings settings, log::Logger logger) {
  return std::shared_ptr<Session>(
      new Session(std::move(executor), std::move(settings), std::move(logger)));
}

void Session::on_inbound(InboundHandler handler) {
  asio::post(impl_->strand, [self = shared_from_this(), h = std::move(handler)]() mutable {
    self->impl_->inbound_handler = std::move(h);
  });
}

void Session::on_state(StateHandler handler) {
  asio::post(impl_->strand, [self = shared_from_this(), h = std::move(handler)]() mutable {
    self->impl_->state_handler = std::move(h);
  });
}

void Session::start() {
  asio::post(impl_->strand, [self = shared_from_this()] {
    auto& impl = *self->impl_;
    if (impl.started || impl.stopping()) return;
    impl.started = true;
    impl.do_connect();
  });
}

void Session::submit(SubmitSm message, SubmitHandler handler) {
  asio::post(impl_->strand, [self = shared_from_this(), m = std::move(message),
                             h = std::move(handler)]() mutable {
    self->impl_->enqueue(std::move(m), std::move(h));
  });
}

void Session::submit_all(std::vector<std::pair<SubmitSm, SubmitHandler>> messages) {
  if (messages.empty()) return;
  asio::post(impl_->strand, [self = shared_from_this(), m = std::move(messages)]() mutable {
    for (auto& [message, handler] : m) self->impl_->enqueue(std::move(message), std::move(handler));
  });
}

void Session::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  asio::post(impl_->strand, [self = shared_from_this(), drain, d = std::move(done)]() mutable {
    self->impl_->stop(drain, std::move(d));
  });
}

void Session::set_rate(double rate, double burst) {
  asio::post(impl_->strand, [self = shared_from_this(), rate, burst] {
    self->impl_->set_rate(rate, burst);
  });
}

SessionStats Session::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

const SessionSettings& Session::settings() const { return impl_->s; }

void Session::respond(std::uint64_t generation, CommandId command, std::uint32_t sequence,
                      std::uint32_t command_status) {
  asio::post(impl_->strand, [self = shared_from_this(), generation, command, sequence,
                             command_status] {
    self->impl_->respond(generation, command, sequence, command_status);
  });
}

// ---------------------------------------------------------------- Responder

void Responder::respond_all(std::vector<std::pair<Responder, std::uint32_t>>& answers) {
  struct Answer {
    std::uint64_t generation;
    CommandId command;
    std::uint32_t sequence;
    std::uint32_t status;
  };
  // Grouped by session, each group in its order; almost always one group.
  std::vector<std::pair<std::shared_ptr<Session>, std::vector<Answer>>> groups;
  for (auto& [r, status] : answers) {
    auto session = r.session_.lock();
    if (!session) continue;
    r.session_.reset();
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == session; });
    if (it == groups.end()) it = groups.insert(groups.end(), {session, {}});
    it->second.push_back({r.generation_, r.command_, r.sequence_, status});
  }
  answers.clear();
  for (auto& [session, list] : groups) {
    auto& strand = session->impl_->strand;
    asio::post(strand, [self = std::move(session), list = std::move(list)] {
      for (const auto& a : list)
        self->impl_->respond(a.generation, a.command, a.sequence, a.status);
    });
  }
}

Responder::Responder(Responder&& other) noexcept
    : session_(std::move(other.session_)), generation_(other.generation_),
      command_(other.command_), sequence_(other.sequence_) {
  other.session_.reset();
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (session_.lock()) respond(status::temporary_app_error);
    session_ = std::move(other.session_);
    other.session_.reset();
    generation_ = other.generation_;
    command_ = other.command_;
    sequence_ = other.sequence_;
  }
  return *this;
}

Responder::~Responder() {
  if (session_.lock()) respond(status::temporary_app_error);
}

void Responder::respond(std::uint32_t command_status) {
  if (auto session = session_.lock()) {
    session_.reset();
    session->respond(generation_, command_, sequence_, command_status);
  }
}

}  // namespace giftgate::smpp
