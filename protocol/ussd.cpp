#include "protocol/ussd.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "protocol/gsm7.hpp"
#include "protocol/utf8.hpp"

namespace giftgate::smpp {
namespace {

struct Named {
  std::uint8_t op;
  std::string_view key;   // as in config
  std::string_view name;  // as in logs
};

constexpr Named kOps[] = {
    {ussd_op::pssd_indication, "pssd_indication", "PSSD indication"},
    {ussd_op::pssr_indication, "pssr_indication", "PSSR indication"},
    {ussd_op::ussr_request, "ussr_request", "USSR request"},
    {ussd_op::ussn_request, "ussn_request", "USSN request"},
    {ussd_op::pssd_response, "pssd_response", "PSSD response"},
    {ussd_op::pssr_response, "pssr_response", "PSSR response"},
    {ussd_op::ussr_confirm, "ussr_confirm", "USSR confirm"},
    {ussd_op::ussn_confirm, "ussn_confirm", "USSN confirm"},
};

}  // namespace

std::string ussd_op_name(std::uint8_t op) {
  for (const auto& n : kOps)
    if (n.op == op) return std::string(n.name);
  return fmt::format("{} 0x{:02x}", op >= 32 ? "vendor" : "reserved", op);
}

std::optional<std::uint8_t> parse_ussd_op(std::string_view text) {
  for (const auto& n : kOps)
    if (n.key == text) return n.op;
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 255)
    return std::nullopt;
  return static_cast<std::uint8_t>(value);
}

std::string UssdInfo::session_key() const {
  if (session) return fmt::format("s{}", *session);
  if (user_message_reference) return fmt::format("u{}", *user_message_reference);
  return {};
}

std::string ussd_session_text(const UssdInfo& request) {
  return fmt::format("{},{},{}", request.session ? std::to_string(*request.session) : "",
                     request.sequence,
                     request.user_message_reference
                         ? std::to_string(*request.user_message_reference)
                         : "");
}

std::optional<UssdInfo> parse_ussd_session_text(std::string_view text) {
  // Each field empty or a decimal number within its range.
  auto field = [&](unsigned max, std::optional<unsigned>& out) {
    const auto comma = text.find(',');
    const std::string_view f = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (f.empty()) return true;
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || end != f.data() + f.size() || v > max) return false;
    out = v;
    return true;
  };
  const auto commas = std::count(text.begin(), text.end(), ',');
  std::optional<unsigned> session, sequence, umr;
  if (commas != 2 || !field(0xFF, session) || !field(0x7F, sequence) || !field(0xFFFF, umr))
    return std::nullopt;
  UssdInfo info;
  if (session) info.session = static_cast<std::uint8_t>(*session);
  info.sequence = static_cast<std::uint8_t>(sequence.value_or(0));
  if (umr) info.user_message_reference = static_cast<std::uint16_t>(*umr);
  return info;
}

std::optional<UssdInfo> ussd_info(const DeliverSm& pdu) {
  const auto op = pdu.tlvs.first_octet(tag::ussd_service_op);
  if (!op) return std::nullopt;
  UssdInfo info;
  info.op = *op;
  if (const Tlv* s = pdu.tlvs.find(tag::its_session_info); s && s->value.size() == 2) {
    info.session = s->value[0];
    info.sequence = static_cast<std::uint8_t>(s->value[1] >> 1);
    info.end = (s->value[1] & 0x01) != 0;
  }
  info.user_message_reference = pdu.tlvs.u16(tag::user_message_reference);
  return info;
}

void set_ussd(SubmitSm& pdu, std::uint8_t op, const UssdInfo& request, bool end) {
  pdu.tlvs.set(Tlv::u8(tag::ussd_service_op, op));
  if (request.session) {
    const auto sequence = static_cast<std::uint8_t>((request.sequence + 1) & 0x7F);
    const std::uint8_t value[2] = {*request.session,
                                   static_cast<std::uint8_t>(sequence << 1 | (end ? 1 : 0))};
    pdu.tlvs.set(Tlv::octets(tag::its_session_info, value));
  } else {
    pdu.tlvs.remove(tag::its_session_info);
  }
  if (request.user_message_reference)
    pdu.tlvs.set(Tlv::u16(tag::user_message_reference, *request.user_message_reference));
}

bool set_ussd_text(SubmitSm& pdu, std::string_view utf8, DefaultAlphabet alphabet) {
  if (!utf8::valid(utf8)) return false;
  const Encoding encoding = choose_encoding(utf8, alphabet);
  std::vector<std::uint8_t> octets;
  bool ok = false;
  switch (encoding.charset) {
    case Charset::ucs2: ok = ucs2_encode(utf8, SurrogatePolicy::keep_pairs, octets); break;
    case Charset::ascii: ok = ascii_encode(utf8, octets); break;
    case Charset::latin1: ok = latin1_encode(utf8, octets); break;
    default:
      ok = gsm7_encode(utf8, octets);
      if (ok && alphabet == DefaultAlphabet::gsm7_packed) octets = gsm7_pack(octets, 0);
      break;
  }
  if (!ok || octets.size() > 254) return false;
  pdu.data_coding = encoding.data_coding;
  pdu.short_message = std::move(octets);
  return true;
}

}  // namespace giftgate::smpp
