// Session::Impl, what the SMSC sends: reading and framing, its requests
// (deliver_sm, data_sm, enquire_link, unbind and the rest) and the responses
// to ours.
#include "protocol/net/session_impl.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "protocol/codec.hpp"

namespace giftgate::smpp {

void Session::Impl::do_read() {
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

void Session::Impl::on_read() {
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

void Session::Impl::on_oversized(std::span<const std::uint8_t> header_octets) {
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

void Session::Impl::handle_frame(std::span<const std::uint8_t> frame) {
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

void Session::Impl::on_request(const Pdu& pdu) {
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

Pdu Session::Impl::refusal(CommandId request, std::uint32_t sequence, std::uint32_t command_status) {
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

void Session::Impl::on_inbound(const Pdu& pdu) {
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

void Session::Impl::write_inbound_response(CommandId response, std::uint32_t seq, std::uint32_t status) {
  if (response == CommandId::data_sm_resp) write(Pdu{status, seq, DataSmResp{}});
  else write(Pdu{status, seq, DeliverSmResp{}});
}

void Session::Impl::respond(std::uint64_t gen, CommandId request, std::uint32_t seq, std::uint32_t status) {
  if (gen != generation) {
    log.info("smpp_response_dropped", {{"sequence", seq}, {"reason", "connection gone"}});
    return;
  }
  write_inbound_response(*response_command(request), seq, status);
  if (flow.answered()) resume_reading();
}

void Session::Impl::resume_reading() {
  log.debug("smpp_read_resumed",
            {{"pending", flow.unanswered()}, {"write_queue", flow.write_queue()}});
  asio::post(strand, [self = self(), this, gen = generation] {
    if (gen == generation && !flow.paused()) on_read();
  });
}

void Session::Impl::on_response(const Pdu& pdu) {
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

}  // namespace giftgate::smpp
