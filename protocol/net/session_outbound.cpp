// Session::Impl, what the ESME sends: submits through the window and the
// pacer, the write queue, and the deadlines of requests awaiting answers.
#include "protocol/net/session_impl.hpp"

#include <algorithm>

#include <boost/asio/write.hpp>

#include "protocol/codec.hpp"

namespace giftgate::smpp {

namespace {

constexpr std::size_t kMaxWriteBatch = 64;  // PDUs per write

}  // namespace

void Session::Impl::enqueue(SubmitSm message, Session::SubmitHandler handler,
                            SubmitPriority priority) {
  submits.offer(std::move(message), std::move(handler), priority);
  publish_window();
  pump();
}

void Session::Impl::set_rate(double rate, double burst) {
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

void Session::Impl::pump() {
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

void Session::Impl::arm_send_timer(Clock::time_point when) {
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

void Session::Impl::on_submit_response(const Pdu& pdu) {
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

void Session::Impl::write(const Pdu& pdu) {
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

void Session::Impl::do_write() {
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

std::uint32_t Session::Impl::track_new(Request kind, std::chrono::milliseconds timeout) {
  const std::uint32_t seq = tracker.allocate();
  tracker.track(seq, kind, Clock::now() + timeout);
  arm_window_timer();
  return seq;
}

void Session::Impl::arm_window_timer() {
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

void Session::Impl::sweep() {
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

bool Session::Impl::silent_since(Clock::time_point written) {
  if (last_read >= written || flow.paused()) return false;
  boost::system::error_code ec;
  std::size_t waiting = 0;
  if (tls) waiting = tls->next_layer().available(ec);
  else if (socket) waiting = socket->available(ec);
  return ec || waiting == 0;
}

}  // namespace giftgate::smpp
