#include "protocol/layout.hpp"

#include <algorithm>

#include "protocol/error.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::smpp::layout {
namespace {

// The maxima below are those of SMPP 3.4 section 4 as libsmpp34 declares them
// (which differs from the specification in one place: data_sm's source_addr
// is 21 octets there, not 65). Declaring them identically means the library
// never sees a field it would refuse for its size.
constexpr Field u8(std::string_view name) { return {Kind::u8, 1, name}; }
constexpr Field cstr(std::string_view name, std::uint16_t max) {
  return {Kind::c_string, max, name};
}

constexpr Field kBind[] = {
    cstr("system_id", 16), cstr("password", 9), cstr("system_type", 13),
    {Kind::version, 1, "interface_version"}, {Kind::ton, 1, "addr_ton"},
    {Kind::npi, 1, "addr_npi"}, cstr("address_range", 41),
};
constexpr Field kBindResp[] = {cstr("system_id", 16)};
constexpr Field kOutbind[] = {cstr("system_id", 16), cstr("password", 9)};

// submit_sm and deliver_sm share their fields; in deliver_sm the
// schedule_delivery_time and validity_period must be empty (section 4.6.1).
constexpr std::array<Field, 18> short_message_fields(std::uint16_t time_max) {
  return {{
      cstr("service_type", 6),
      {Kind::ton, 1, "source_addr_ton"},
      {Kind::npi, 1, "source_addr_npi"},
      cstr("source_addr", 21),
      {Kind::ton, 1, "dest_addr_ton"},
      {Kind::npi, 1, "dest_addr_npi"},
      cstr("destination_addr", 21),
      u8("esm_class"),
      u8("protocol_id"),
      u8("priority_flag"),
      cstr("schedule_delivery_time", time_max),
      cstr("validity_period", time_max),
      u8("registered_delivery"),
      u8("replace_if_present_flag"),
      u8("data_coding"),
      u8("sm_default_msg_id"),
      {Kind::sm_length, 1, "sm_length"},
      {Kind::short_message, 254, "short_message"},
  }};
}
constexpr auto kSubmitSm = short_message_fields(17);
constexpr auto kDeliverSm = short_message_fields(1);
constexpr Field kMessageIdResp[] = {cstr("message_id", 65)};
constexpr Field kDeliverSmResp[] = {cstr("message_id", 1)};
constexpr Field kDataSm[] = {
    cstr("service_type", 6),
    {Kind::ton, 1, "source_addr_ton"},
    {Kind::npi, 1, "source_addr_npi"},
    cstr("source_addr", 21),
    {Kind::ton, 1, "dest_addr_ton"},
    {Kind::npi, 1, "dest_addr_npi"},
    cstr("destination_addr", 65),
    u8("esm_class"),
    u8("registered_delivery"),
    u8("data_coding"),
};
constexpr Field kAlertNotification[] = {
    {Kind::ton, 1, "source_addr_ton"}, {Kind::npi, 1, "source_addr_npi"},
    cstr("source_addr", 65),           {Kind::ton, 1, "esme_addr_ton"},
    {Kind::npi, 1, "esme_addr_npi"},   cstr("esme_addr", 65),
};

using C = CommandId;
constexpr std::uint32_t id(C c) { return static_cast<std::uint32_t>(c); }

const Command kCommands[] = {
    {id(C::bind_transmitter), kBind, false},
    {id(C::bind_receiver), kBind, false},
    {id(C::bind_transceiver), kBind, false},
    {id(C::bind_transmitter_resp), kBindResp, true},
    {id(C::bind_receiver_resp), kBindResp, true},
    {id(C::bind_transceiver_resp), kBindResp, true},
    {id(C::outbind), kOutbind, false},
    {id(C::unbind), {}, false},
    {id(C::unbind_resp), {}, false},
    {id(C::enquire_link), {}, false},
    {id(C::enquire_link_resp), {}, false},
    {id(C::generic_nack), {}, false},
    {id(C::submit_sm), kSubmitSm, true},
    // libsmpp34's submit_sm_resp and data_sm_resp frames have no TLV list:
    // the codec reads them.
    {id(C::submit_sm_resp), kMessageIdResp, false},
    {id(C::deliver_sm), kDeliverSm, true},
    {id(C::deliver_sm_resp), kDeliverSmResp, false},
    {id(C::data_sm), kDataSm, true},
    {id(C::data_sm_resp), kMessageIdResp, false},
    {id(C::alert_notification), kAlertNotification, true},
};

// Tags libsmpp34's str_tlv_id knows; any other tag makes it fail the PDU.
constexpr std::uint16_t kLibraryTags[] = {
    0x0005, 0x0006, 0x0007, 0x0008, 0x000D, 0x000E, 0x000F, 0x0010, 0x0017, 0x0019, 0x001D,
    0x001E, 0x0030, 0x0201, 0x0202, 0x0203, 0x0204, 0x0205, 0x020A, 0x020B, 0x020C, 0x020D,
    0x020E, 0x020F, 0x0210, 0x0302, 0x0303, 0x0304, 0x0381, 0x0420, 0x0421, 0x0422, 0x0423,
    0x0424, 0x0425, 0x0426, 0x0427, 0x0501, 0x1201, 0x1203, 0x1204, 0x130C, 0x1380, 0x1383,
};

struct TagForm {
  std::uint16_t tag;
  std::uint8_t width;
  std::uint16_t max_octets;
};

// The per-command TLV tables of libsmpp34 (def_frame/*.tlv); a tag not listed
// is read as generic octets of up to 1024.
constexpr TagForm kSubmitSmTlvs[] = {
    {0x0204, 2, 0}, {0x020A, 2, 0},  {0x000D, 1, 0}, {0x020B, 2, 0},  {0x0005, 1, 0},
    {0x020C, 2, 0}, {0x020E, 1, 0},  {0x020F, 1, 0}, {0x0426, 1, 0},  {0x0019, 1, 0},
    {0x0424, 0, 1024}, {0x0201, 1, 0}, {0x0381, 0, 19}, {0x0302, 1, 0}, {0x0303, 0, 65},
    {0x0202, 0, 23}, {0x0203, 0, 23}, {0x0205, 1, 0},  {0x1201, 1, 0},  {0x1203, 2, 0},
    {0x1204, 1, 0}, {0x0030, 1, 0},  {0x0304, 1, 0}, {0x130C, 0, 0},  {0x020D, 1, 0},
    {0x1380, 1, 0}, {0x1383, 2, 0},  {0x0501, 0, 1},
};
constexpr TagForm kDeliverSmTlvs[] = {
    {0x0204, 2, 0}, {0x020A, 2, 0},  {0x020B, 2, 0},  {0x020C, 2, 0},  {0x020E, 1, 0},
    {0x020F, 1, 0}, {0x0205, 1, 0},  {0x0201, 1, 0},  {0x0019, 1, 0},  {0x0424, 0, 1024},
    {0x0381, 0, 19}, {0x0202, 0, 23}, {0x0203, 0, 23}, {0x020D, 1, 0},  {0x1383, 2, 0},
    {0x0423, 0, 3}, {0x0427, 1, 0},  {0x001E, 0, 65}, {0x0421, 1, 0},  {0x000E, 1, 0},
};
constexpr TagForm kDataSmTlvs[] = {
    {0x020A, 2, 0}, {0x000D, 1, 0},  {0x000E, 1, 0},  {0x000F, 1, 0},  {0x0010, 1, 0},
    {0x020B, 2, 0}, {0x0005, 1, 0},  {0x0006, 1, 0},  {0x0007, 1, 0},  {0x0008, 2, 0},
    {0x020C, 2, 0}, {0x020E, 1, 0},  {0x020F, 1, 0},  {0x0426, 1, 0},  {0x0017, 4, 0},
    {0x0019, 1, 0}, {0x0424, 0, 1024}, {0x0421, 1, 0}, {0x001E, 0, 65}, {0x0427, 1, 0},
    {0x0423, 0, 3}, {0x0204, 2, 0},  {0x0201, 1, 0},  {0x0381, 0, 19}, {0x0302, 1, 0},
    {0x0303, 0, 65}, {0x0202, 0, 23}, {0x0203, 0, 23}, {0x0205, 1, 0},  {0x1201, 1, 0},
    {0x1203, 2, 0}, {0x1204, 1, 0},  {0x0030, 1, 0},  {0x0304, 1, 0},  {0x130C, 0, 0},
    {0x020D, 1, 0}, {0x1380, 1, 0},  {0x1383, 2, 0},
};
constexpr TagForm kBindRespTlvs[] = {{0x0210, 1, 0}};
constexpr TagForm kAlertTlvs[] = {{0x0422, 1, 0}};

std::span<const TagForm> tag_table(std::uint32_t command_id) {
  switch (static_cast<C>(command_id)) {
    case C::submit_sm: return kSubmitSmTlvs;
    case C::deliver_sm: return kDeliverSmTlvs;
    case C::data_sm: return kDataSmTlvs;
    case C::bind_transmitter_resp:
    case C::bind_receiver_resp:
    case C::bind_transceiver_resp: return kBindRespTlvs;
    case C::alert_notification: return kAlertTlvs;
    default: return {};
  }
}

std::uint16_t read16(std::span<const std::uint8_t> o, std::size_t at) {
  return static_cast<std::uint16_t>((o[at] << 8) | o[at + 1]);
}

}  // namespace

const Command* find_command(std::uint32_t command_id) {
  for (const auto& c : kCommands)
    if (c.id == command_id) return &c;
  return nullptr;
}

LibraryTlvForm library_tlv_form(std::uint32_t command_id, std::uint16_t tag) {
  if (!std::ranges::binary_search(kLibraryTags, tag)) return {};
  for (const auto& f : tag_table(command_id))
    if (f.tag == tag) return {true, f.width, f.max_octets};
  return {true, 0, 1024};
}

bool library_reads_tlv(std::uint32_t command_id, std::uint16_t tag, std::size_t length) {
  const Command* command = find_command(command_id);
  if (!command || !command->library_parses_tlvs) return false;
  const LibraryTlvForm form = library_tlv_form(command_id, tag);
  if (!form.known) return false;
  if (form.width != 0) return length == form.width;
  return length <= form.max_octets;
}

bool library_accepts_ton(std::uint8_t ton) { return ton <= 6; }

bool library_accepts_npi(std::uint8_t npi) {
  switch (npi) {
    case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10: case 14: case 18:
      return true;
    default:
      return false;
  }
}

std::error_code walk(std::span<const std::uint8_t> octets, Walk& out,
                     std::string_view* bad_field) {
  auto fail = [&](errc e, std::string_view field) {
    if (bad_field) *bad_field = field;
    return make_error_code(e);
  };
  if (octets.size() < 16) return fail(errc::pdu_too_short, "header");
  const std::uint32_t command_id = (std::uint32_t{octets[4]} << 24) |
                                   (std::uint32_t{octets[5]} << 16) |
                                   (std::uint32_t{octets[6]} << 8) | octets[7];
  const std::uint32_t command_status = (std::uint32_t{octets[8]} << 24) |
                                       (std::uint32_t{octets[9]} << 16) |
                                       (std::uint32_t{octets[10]} << 8) | octets[11];
  out = Walk{};
  out.command = find_command(command_id);
  if (!out.command) return fail(errc::unknown_command, "command_id");

  // SMSCs answer a failed request with the header alone (section 3.3).
  if (is_response(command_id) && command_status != status::ok && octets.size() == 16) {
    out.header_only = true;
    return {};
  }

  std::size_t at = 16;
  std::size_t sm_length = 0;
  for (const Field& field : out.command->fields) {
    const std::size_t left = octets.size() - at;
    Walk::Span span{at, 0};
    switch (field.kind) {
      case Kind::u8:
      case Kind::ton:
      case Kind::npi:
      case Kind::version:
      case Kind::sm_length:
        if (left < 1) return fail(errc::truncated_field, field.name);
        span.length = 1;
        if (field.kind == Kind::sm_length) {
          sm_length = octets[at];
          if (sm_length > 254) return fail(errc::field_too_long, field.name);
        }
        at += 1;
        break;
      case Kind::c_string: {
        const std::size_t limit = std::min<std::size_t>(left, field.max);
        const auto begin = octets.begin() + static_cast<std::ptrdiff_t>(at);
        const auto nul = std::find(begin, begin + static_cast<std::ptrdiff_t>(limit), 0);
        if (nul == begin + static_cast<std::ptrdiff_t>(limit))
          return fail(left < field.max ? errc::missing_terminator : errc::field_too_long,
                      field.name);
        span.length = static_cast<std::size_t>(nul - begin);
        at += span.length + 1;
        break;
      }
      case Kind::short_message:
        if (left < sm_length) return fail(errc::truncated_field, field.name);
        span.length = sm_length;
        at += sm_length;
        break;
    }
    out.fields[out.field_count++] = span;
  }
  out.body_end = at;

  while (at < octets.size()) {
    if (octets.size() - at < 4) return fail(errc::bad_tlv, "tlv header");
    const std::uint16_t tag = read16(octets, at);
    const std::size_t length = read16(octets, at + 2);
    if (octets.size() - at - 4 < length) return fail(errc::bad_tlv, "tlv length");
    out.tlvs.push_back({tag, at, at + 4, length});
    at += 4 + length;
  }
  return {};
}

}  // namespace giftgate::smpp::layout
