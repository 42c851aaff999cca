// The SMPP layer's own error codes. Expected failures (a malformed PDU, a peer
// that stops answering) are returned as std::error_code values of this
// category, never thrown.
#pragma once

#include <string>
#include <system_error>

namespace giftgate::smpp {

enum class errc {
  // Framing and decoding.
  pdu_too_short = 1,      // fewer than 16 octets, or command_length < 16
  pdu_too_long,           // command_length above the configured maximum
  length_mismatch,        // command_length disagrees with the octets given
  unknown_command,        // command_id is not one the gateway handles
  truncated_field,        // a mandatory field runs past the end of the PDU
  field_too_long,         // a C-octet string or octet field exceeds its limit
  missing_terminator,     // a C-octet string has no NUL before the end
  bad_tlv,                // a TLV header or length runs past the end
  library_rejected,       // libsmpp34 refused the PDU (detail in the message)
  invalid_field,          // a value that cannot be encoded (too long, NUL inside)
  invalid_text,           // text that is not valid UTF-8
  too_many_parts,         // a long message needs more parts than allowed
  // Session.
  connect_timeout = 100,  // TCP connect did not finish in time
  tls_handshake_failed,   // TLS handshake or certificate verification failed
  bind_refused,           // the SMSC answered the bind with an error status
  bind_timeout,           // no bind response in time
  response_timeout,       // no response to a request in time
  peer_silent,            // enquire_link, or a submit with nothing read since, unanswered
  connection_lost,        // the connection closed or failed
  peer_unbound,           // the SMSC asked to unbind
  stopped,                // the session was stopped
  queue_full,             // the session's queue of unsent messages is full
  submit_rejected,        // the SMSC answered a submit with an error status
  generic_nack,           // the SMSC answered a request with generic_nack
  not_bound_for_sending,  // the bind mode cannot send (a receiver)
  not_bound,              // offered while the session is not bound (connecting, closed)
};

// The category of errc values ("giftgate.smpp").
const std::error_category& smpp_category() noexcept;

std::error_code make_error_code(errc e) noexcept;

}  // namespace giftgate::smpp

template <>
struct std::is_error_code_enum<giftgate::smpp::errc> : std::true_type {};
