#include "protocol/error.hpp"

namespace giftgate::smpp {
namespace {

class SmppCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "giftgate.smpp"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::pdu_too_short: return "PDU shorter than its 16-octet header";
      case errc::pdu_too_long: return "command_length above the maximum";
      case errc::length_mismatch: return "command_length disagrees with the PDU size";
      case errc::unknown_command: return "unknown or unsupported command_id";
      case errc::truncated_field: return "mandatory field runs past the end of the PDU";
      case errc::field_too_long: return "field longer than SMPP 3.4 allows";
      case errc::missing_terminator: return "C-octet string without NUL terminator";
      case errc::bad_tlv: return "malformed optional parameter (TLV)";
      case errc::library_rejected: return "libsmpp34 rejected the PDU";
      case errc::invalid_field: return "field value cannot be encoded";
      case errc::invalid_text: return "text is not valid UTF-8";
      case errc::too_many_parts: return "message needs more parts than allowed";
      case errc::connect_timeout: return "connect timed out";
      case errc::tls_handshake_failed: return "TLS handshake failed";
      case errc::bind_refused: return "bind refused by the SMSC";
      case errc::bind_timeout: return "no bind response in time";
      case errc::response_timeout: return "no response in time";
      case errc::peer_silent: return "peer stopped answering";
      case errc::connection_lost: return "connection lost";
      case errc::peer_unbound: return "SMSC unbound the session";
      case errc::stopped: return "session stopped";
      case errc::queue_full: return "session queue full";
      case errc::submit_rejected: return "submit rejected by the SMSC";
      case errc::generic_nack: return "request answered with generic_nack";
      case errc::not_bound_for_sending: return "bind mode cannot send messages";
      case errc::not_bound: return "session not bound";
    }
    return "unknown giftgate.smpp error";
  }
};

}  // namespace

const std::error_category& smpp_category() noexcept {
  static const SmppCategory category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), smpp_category()};
}

}  // namespace giftgate::smpp
