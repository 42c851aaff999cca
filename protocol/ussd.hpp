// USSD over SMPP 3.4: the ussd_service_op and its_session_info optional
// parameters that a USSD centre puts on deliver_sm and expects on submit_sm
// (sections 5.3.2.44 and 5.3.2.43). Only the wire values live here; which
// operation a centre uses for "begin", "continue" and "end" is the daemon's
// configuration, and menus are the daemon's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/charset.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::smpp {

// ussd_service_op values. 32 to 255 are vendor-specific (an abort, often).
namespace ussd_op {
inline constexpr std::uint8_t pssd_indication = 0;
inline constexpr std::uint8_t pssr_indication = 1;
inline constexpr std::uint8_t ussr_request = 2;
inline constexpr std::uint8_t ussn_request = 3;
inline constexpr std::uint8_t pssd_response = 16;
inline constexpr std::uint8_t pssr_response = 17;
inline constexpr std::uint8_t ussr_confirm = 18;
inline constexpr std::uint8_t ussn_confirm = 19;
}  // namespace ussd_op

// The name of an operation ("PSSR indication"), or "vendor 0x81".
std::string ussd_op_name(std::uint8_t op);

// Parses an operation from config: a name (pssr_indication, ussr_confirm,
// ...) or a number 0 to 255 (decimal or 0x hex).
std::optional<std::uint8_t> parse_ussd_op(std::string_view text);

// What the USSD parameters of one deliver_sm say.
struct UssdInfo {
  std::uint8_t op = 0;
  // its_session_info: the session number, the sequence and the end flag.
  // Centres that send none leave these empty; some put a session
  // reference in user_message_reference instead.
  std::optional<std::uint8_t> session;
  std::uint8_t sequence = 0;
  bool end = false;
  std::optional<std::uint16_t> user_message_reference;

  // One key for the session: its_session_info's number if there is one,
  // else user_message_reference, else empty (one session per number).
  std::string session_key() const;

  friend bool operator==(const UssdInfo&, const UssdInfo&) = default;
};

// A request's session parameters as one line of text, "session,sequence,umr"
// with empty fields for what the centre did not send, so they can be kept
// (the daemon's outbox) until the answer goes out; and back.
std::string ussd_session_text(const UssdInfo& request);
std::optional<UssdInfo> parse_ussd_session_text(std::string_view text);

// The USSD parameters of a deliver_sm; nullopt when it has no
// ussd_service_op (an ordinary SMS). A malformed its_session_info (not two
// octets) is ignored, as if absent.
std::optional<UssdInfo> ussd_info(const DeliverSm& pdu);

// Puts the USSD parameters of an answer on a submit_sm: the operation,
// its_session_info echoing the session with the next sequence number and
// the end flag, and user_message_reference when the request carried one.
void set_ussd(SubmitSm& pdu, std::uint8_t op, const UssdInfo& request, bool end);

// A USSD string as the short_message of one submit_sm: the SMSC's default
// alphabet when every character fits (182 GSM characters fit unpacked),
// else UCS-2. False when the text is not valid UTF-8 or the octets would
// exceed 254 (a USSD screen never should: the menus are checked).
bool set_ussd_text(SubmitSm& pdu, std::string_view utf8, DefaultAlphabet alphabet);

}  // namespace giftgate::smpp
