#include "protocol/codec.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "protocol/error.hpp"
#include "protocol/layout.hpp"

// libsmpp34's headers are C and declare structs through macros; they are
// included here and nowhere else.
extern "C" {
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
}

namespace giftgate::smpp {
namespace {

using Octets = std::vector<std::uint8_t>;

constexpr std::uint32_t id_of(CommandId c) { return static_cast<std::uint32_t>(c); }

// The most optional parameters handed to libsmpp34 in one PDU; with more,
// the codec reads them (see decode).
constexpr std::size_t kLibraryTlvLimit = 16;

// libsmpp34 reports through process-wide globals; every call into it and every
// read of them happens under this lock.
std::mutex library_mutex;
std::atomic<std::size_t> max_library_log{0};

std::uint32_t read32(std::span<const std::uint8_t> o, std::size_t at) {
  return (std::uint32_t{o[at]} << 24) | (std::uint32_t{o[at + 1]} << 16) |
         (std::uint32_t{o[at + 2]} << 8) | o[at + 3];
}

void write32(Octets& o, std::size_t at, std::uint32_t v) {
  o[at] = static_cast<std::uint8_t>(v >> 24);
  o[at + 1] = static_cast<std::uint8_t>(v >> 16);
  o[at + 2] = static_cast<std::uint8_t>(v >> 8);
  o[at + 3] = static_cast<std::uint8_t>(v);
}

// Values libsmpp34 checks against lists; others are carried around it.
std::uint32_t library_sequence(std::uint32_t seq) {
  return (seq == 0 || seq > 0x7FFFFFFF) ? 1 : seq;
}

// Records how much the library wrote to its error buffer and copies the last
// entry for the caller's detail. Called with library_mutex held.
void note_library_log(std::string* detail) {
  const std::size_t used = strnlen(smpp34_strerror, sizeof smpp34_strerror);
  std::size_t seen = max_library_log.load();
  while (used > seen && !max_library_log.compare_exchange_weak(seen, used)) {
  }
  if (detail) {
    std::string_view log(smpp34_strerror, used);
    const auto last = log.rfind('[');
    *detail = std::string(last == std::string_view::npos ? log : log.substr(last));
  }
}

template <std::size_t N>
std::string text(const std::uint8_t (&field)[N]) {
  return std::string(reinterpret_cast<const char*>(field),
                     strnlen(reinterpret_cast<const char*>(field), N));
}

template <std::size_t N>
bool put(std::uint8_t (&field)[N], std::string_view value) {
  if (value.size() >= N || value.find('\0') != std::string_view::npos) return false;
  if (!value.empty()) std::memcpy(field, value.data(), value.size());
  field[value.size()] = 0;
  return true;
}

// ---------------------------------------------------------------- TLVs

// A TLV from libsmpp34's list, back in wire octets.
Tlv from_library(std::uint32_t command_id, const tlv_t& t) {
  const auto form = layout::library_tlv_form(command_id, t.tag);
  switch (form.width) {
    case 1: return Tlv::u8(t.tag, t.value.val08);
    case 2: return Tlv::u16(t.tag, t.value.val16);
    case 4: return Tlv::u32(t.tag, t.value.val32);
    default: break;
  }
  const std::size_t n = std::min<std::size_t>(t.length, sizeof t.value.octet);
  return Tlv{t.tag, Octets(t.value.octet, t.value.octet + n)};
}

// Turns libsmpp34's list (reverse wire order) into a Tlvs and frees it.
Tlvs take_library_list(std::uint32_t command_id, tlv_t* list) {
  std::vector<Tlv> items;
  for (tlv_t* t = list; t != nullptr; t = t->next) items.push_back(from_library(command_id, *t));
  if (list) destroy_tlv(list);
  Tlvs out;
  for (auto it = items.rbegin(); it != items.rend(); ++it) out.add(std::move(*it));
  return out;
}

// Frees a TLV list built for packing when the pack is done, however it ends.
struct TlvList {
  tlv_t* head = nullptr;
  TlvList() = default;
  TlvList(const TlvList&) = delete;
  TlvList& operator=(const TlvList&) = delete;
  ~TlvList() {
    if (head) destroy_tlv(head);
  }
};

bool library_can_pack(std::uint32_t command_id, const Tlvs& tlvs) {
  return tlvs.size() <= kLibraryTlvLimit && std::ranges::all_of(tlvs, [&](const Tlv& t) {
    return layout::library_reads_tlv(command_id, t.tag, t.value.size());
  });
}

// build_tlv puts each entry at the head of the list and pack writes the list
// from its head, so the entries go in last first.
bool build_library_list(std::uint32_t command_id, const Tlvs& tlvs, TlvList& list) {
  for (auto it = tlvs.items().rbegin(); it != tlvs.items().rend(); ++it) {
    const Tlv& tlv = *it;
    tlv_t t{};
    t.tag = tlv.tag;
    t.length = static_cast<std::uint16_t>(tlv.value.size());
    const auto form = layout::library_tlv_form(command_id, tlv.tag);
    const auto& v = tlv.value;
    if (form.width == 1) t.value.val08 = v[0];
    else if (form.width == 2) t.value.val16 = static_cast<std::uint16_t>((v[0] << 8) | v[1]);
    else if (form.width == 4) t.value.val32 = (std::uint32_t{v[0]} << 24) |
                                             (std::uint32_t{v[1]} << 16) |
                                             (std::uint32_t{v[2]} << 8) | v[3];
    else if (!v.empty()) std::memcpy(t.value.octet, v.data(), v.size());
    if (build_tlv(&list.head, &t) != 0) return false;
  }
  return true;
}

void append_tlvs(const Tlvs& tlvs, Octets& out) {
  for (const Tlv& t : tlvs) {
    out.push_back(static_cast<std::uint8_t>(t.tag >> 8));
    out.push_back(static_cast<std::uint8_t>(t.tag));
    out.push_back(static_cast<std::uint8_t>(t.value.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(t.value.size()));
    out.insert(out.end(), t.value.begin(), t.value.end());
  }
}

Tlvs tlvs_from_walk(std::span<const std::uint8_t> octets, const layout::Walk& w) {
  Tlvs out;
  for (const auto& s : w.tlvs) {
    out.add(Tlv{s.tag, Octets(octets.begin() + static_cast<std::ptrdiff_t>(s.value_offset),
                              octets.begin() + static_cast<std::ptrdiff_t>(s.value_offset +
                                                                           s.length))});
  }
  return out;
}

std::string string_from_walk(std::span<const std::uint8_t> octets, const layout::Walk& w,
                             std::size_t field) {
  const auto& s = w.fields[field];
  return std::string(reinterpret_cast<const char*>(octets.data()) + s.offset, s.length);
}

// ---------------------------------------------------------------- decode

// Unpacks `buffer` into a libsmpp34 struct of type T. The lock is held by the
// caller for the whole conversion so the TLV list and the log stay ours.
template <class T>
bool library_unpack(std::uint32_t command_id, T& t, const Octets& buffer, std::size_t length,
                    std::string* detail) {
  const int rc = smpp34_unpack(command_id, &t, buffer.data(), static_cast<int>(length));
  note_library_log(rc == 0 ? nullptr : detail);
  return rc == 0;
}

Address address(std::uint8_t ton, std::uint8_t npi, std::string addr) {
  return Address{ton, npi, std::move(addr)};
}

template <class T>
void short_message_from(const T& t, ShortMessageFields& f) {
  f.service_type = text(t.service_type);
  f.source = address(t.source_addr_ton, t.source_addr_npi, text(t.source_addr));
  f.dest = address(t.dest_addr_ton, t.dest_addr_npi, text(t.destination_addr));
  f.esm_class = t.esm_class;
  f.protocol_id = t.protocol_id;
  f.priority_flag = t.priority_flag;
  f.schedule_delivery_time = text(t.schedule_delivery_time);
  f.validity_period = text(t.validity_period);
  f.registered_delivery = t.registered_delivery;
  f.replace_if_present_flag = t.replace_if_present_flag;
  f.data_coding = t.data_coding;
  f.sm_default_msg_id = t.sm_default_msg_id;
  f.short_message.assign(t.short_message, t.short_message + t.sm_length);
}

struct DecodeContext {
  std::span<const std::uint8_t> octets;  // the PDU as received
  const layout::Walk& walk;
  Octets buffer;       // the copy libsmpp34 reads, values it refuses patched
  std::size_t length;  // how much of buffer it reads
  bool library_tlvs;   // whether the TLVs are part of that
  std::string* detail;

  std::uint8_t raw(std::size_t field) const { return octets[walk.fields[field].offset]; }

  // The TLVs as walked, for commands whose library frame has no TLV list.
  Tlvs walked_tlvs() const { return tlvs_from_walk(octets, walk); }

  // The TLVs: from libsmpp34's list when it read them, checked against the
  // walk; otherwise straight from the walk.
  std::error_code tlvs(std::uint32_t command_id, tlv_t* list, Tlvs& out) const {
    if (!library_tlvs) {
      if (list) destroy_tlv(list);
      out = tlvs_from_walk(octets, walk);
      return {};
    }
    out = take_library_list(command_id, list);
    if (out.size() != walk.tlvs.size()) return make_error_code(errc::library_rejected);
    std::size_t i = 0;
    for (const Tlv& t : out) {
      if (t.tag != walk.tlvs[i].tag || t.value.size() != walk.tlvs[i].length)
        return make_error_code(errc::library_rejected);
      ++i;
    }
    return {};
  }
};

template <class T, class Convert>
std::error_code unpack_with(std::uint32_t command_id, const DecodeContext& ctx, Convert convert) {
  T t{};
  std::lock_guard lock(library_mutex);
  if (!library_unpack(command_id, t, ctx.buffer, ctx.length, ctx.detail))
    return make_error_code(errc::library_rejected);
  return convert(t);
}

std::error_code decode_body(std::uint32_t command_id, const DecodeContext& ctx, Pdu& pdu) {
  using C = CommandId;
  switch (static_cast<C>(command_id)) {
    case C::bind_transmitter:
    case C::bind_receiver:
    case C::bind_transceiver: {
      auto convert = [&](const auto& t) {
        BindRequest b;
        b.kind = command_id == id_of(C::bind_transmitter) ? BindKind::transmitter
                 : command_id == id_of(C::bind_receiver)  ? BindKind::receiver
                                                          : BindKind::transceiver;
        b.system_id = text(t.system_id);
        b.password = text(t.password);
        b.system_type = text(t.system_type);
        b.interface_version = ctx.raw(3);
        b.addr_ton = ctx.raw(4);
        b.addr_npi = ctx.raw(5);
        b.address_range = text(t.address_range);
        b.tlvs = ctx.walked_tlvs();
        pdu.body = std::move(b);
        return std::error_code{};
      };
      if (command_id == id_of(C::bind_transmitter))
        return unpack_with<bind_transmitter_t>(command_id, ctx, convert);
      if (command_id == id_of(C::bind_receiver))
        return unpack_with<bind_receiver_t>(command_id, ctx, convert);
      return unpack_with<bind_transceiver_t>(command_id, ctx, convert);
    }
    case C::bind_transmitter_resp:
    case C::bind_receiver_resp:
    case C::bind_transceiver_resp: {
      BindResponse b;
      b.kind = command_id == id_of(C::bind_transmitter_resp) ? BindKind::transmitter
               : command_id == id_of(C::bind_receiver_resp)  ? BindKind::receiver
                                                             : BindKind::transceiver;
      if (ctx.walk.header_only) {
        pdu.body = std::move(b);
        return {};
      }
      auto convert = [&](auto& t) {
        b.system_id = text(t.system_id);
        if (auto ec = ctx.tlvs(command_id, t.tlv, b.tlvs)) return ec;
        pdu.body = std::move(b);
        return std::error_code{};
      };
      if (command_id == id_of(C::bind_transmitter_resp))
        return unpack_with<bind_transmitter_resp_t>(command_id, ctx, convert);
      if (command_id == id_of(C::bind_receiver_resp))
        return unpack_with<bind_receiver_resp_t>(command_id, ctx, convert);
      return unpack_with<bind_transceiver_resp_t>(command_id, ctx, convert);
    }
    case C::outbind:
      return unpack_with<outbind_t>(command_id, ctx, [&](const outbind_t& t) {
        pdu.body = Outbind{text(t.system_id), text(t.password), ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::unbind:
      return unpack_with<unbind_t>(command_id, ctx, [&](const unbind_t&) {
        pdu.body = Unbind{ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::unbind_resp:
      return unpack_with<unbind_resp_t>(command_id, ctx, [&](const unbind_resp_t&) {
        pdu.body = UnbindResp{ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::enquire_link:
      return unpack_with<enquire_link_t>(command_id, ctx, [&](const enquire_link_t&) {
        pdu.body = EnquireLink{ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::enquire_link_resp:
      return unpack_with<enquire_link_resp_t>(command_id, ctx, [&](const enquire_link_resp_t&) {
        pdu.body = EnquireLinkResp{ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::generic_nack:
      return unpack_with<generic_nack_t>(command_id, ctx, [&](const generic_nack_t&) {
        pdu.body = GenericNack{ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::submit_sm:
    case C::deliver_sm: {
      auto convert = [&](auto& t) {
        ShortMessageFields f;
        short_message_from(t, f);
        f.source.ton = ctx.raw(1);
        f.source.npi = ctx.raw(2);
        f.dest.ton = ctx.raw(4);
        f.dest.npi = ctx.raw(5);
        if (auto ec = ctx.tlvs(command_id, t.tlv, f.tlvs)) return ec;
        if (command_id == id_of(C::submit_sm)) pdu.body = SubmitSm{std::move(f)};
        else pdu.body = DeliverSm{std::move(f)};
        return std::error_code{};
      };
      if (command_id == id_of(C::submit_sm))
        return unpack_with<submit_sm_t>(command_id, ctx, convert);
      return unpack_with<deliver_sm_t>(command_id, ctx, convert);
    }
    case C::submit_sm_resp:
      if (ctx.walk.header_only) {
        pdu.body = SubmitSmResp{};
        return {};
      }
      return unpack_with<submit_sm_resp_t>(command_id, ctx, [&](const submit_sm_resp_t& t) {
        // The library skips message_id on an error response; the walk has it.
        pdu.body = SubmitSmResp{pdu.command_status == status::ok
                                    ? text(t.message_id)
                                    : string_from_walk(ctx.octets, ctx.walk, 0),
                                ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::deliver_sm_resp:
      if (ctx.walk.header_only) {
        pdu.body = DeliverSmResp{};
        return {};
      }
      return unpack_with<deliver_sm_resp_t>(command_id, ctx, [&](const deliver_sm_resp_t& t) {
        pdu.body = DeliverSmResp{text(t.message_id), ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::data_sm:
      return unpack_with<data_sm_t>(command_id, ctx, [&](data_sm_t& t) {
        DataSm d;
        d.service_type = text(t.service_type);
        d.source = address(ctx.raw(1), ctx.raw(2), text(t.source_addr));
        d.dest = address(ctx.raw(4), ctx.raw(5), text(t.destination_addr));
        d.esm_class = t.esm_class;
        d.registered_delivery = t.registered_delivery;
        d.data_coding = t.data_coding;
        if (auto ec = ctx.tlvs(command_id, t.tlv, d.tlvs)) return ec;
        pdu.body = std::move(d);
        return std::error_code{};
      });
    case C::data_sm_resp:
      if (ctx.walk.header_only) {
        pdu.body = DataSmResp{};
        return {};
      }
      return unpack_with<data_sm_resp_t>(command_id, ctx, [&](const data_sm_resp_t& t) {
        pdu.body = DataSmResp{text(t.message_id), ctx.walked_tlvs()};
        return std::error_code{};
      });
    case C::alert_notification:
      return unpack_with<alert_notification_t>(command_id, ctx, [&](alert_notification_t& t) {
        AlertNotification a;
        a.source = address(ctx.raw(0), ctx.raw(1), text(t.source_addr));
        a.esme = address(ctx.raw(3), ctx.raw(4), text(t.esme_addr));
        if (auto ec = ctx.tlvs(command_id, t.tlv, a.tlvs)) return ec;
        pdu.body = std::move(a);
        return std::error_code{};
      });
  }
  return make_error_code(errc::unknown_command);
}

}  // namespace

bool read_header(std::span<const std::uint8_t> octets, Header& out) {
  if (octets.size() < 16) return false;
  out.command_length = read32(octets, 0);
  out.command_id = read32(octets, 4);
  out.command_status = read32(octets, 8);
  out.sequence_number = read32(octets, 12);
  return true;
}

std::error_code decode(std::span<const std::uint8_t> octets, Pdu& out,
                       const DecodeLimits& limits, std::string* detail) {
  Header h;
  if (!read_header(octets, h) || h.command_length < 16) return make_error_code(errc::pdu_too_short);
  if (h.command_length > limits.max_pdu_length) return make_error_code(errc::pdu_too_long);
  if (h.command_length != octets.size()) return make_error_code(errc::length_mismatch);

  layout::Walk walk;
  std::string_view bad;
  if (auto ec = layout::walk(octets, walk, &bad)) {
    if (detail) *detail = std::string(bad);
    return ec;
  }
  const layout::Command& command = *walk.command;

  // The library reads the TLVs itself only when it would read every one of
  // them correctly, and only a few: it logs every TLV it reads into its
  // 2048-octet error buffer. Otherwise it sees the mandatory fields alone
  // and the walk supplies the TLVs.
  const bool library_tlvs =
      command.library_parses_tlvs && !walk.tlvs.empty() &&
      walk.tlvs.size() <= kLibraryTlvLimit &&
      std::ranges::all_of(walk.tlvs, [&](const layout::Walk::TlvSpan& t) {
        return layout::library_reads_tlv(h.command_id, t.tag, t.length);
      });
  std::size_t length = library_tlvs ? octets.size() : walk.body_end;

  // An error submit_sm_resp: the library expects no message_id after a
  // non-zero status, so it gets the header alone and the walk supplies it.
  std::uint32_t library_status = status::ok;
  if (h.command_id == id_of(CommandId::submit_sm_resp) && h.command_status != status::ok) {
    library_status = status::unknown_error;
    length = 16;
  }

  // A NUL-padded copy, so that nothing the library measures with strlen can
  // run past the PDU, with the values it refuses replaced by ones it takes.
  Octets buffer(octets.begin(), octets.begin() + static_cast<std::ptrdiff_t>(length));
  buffer.resize(length + 8, 0);
  write32(buffer, 0, static_cast<std::uint32_t>(length));
  write32(buffer, 8, library_status);
  write32(buffer, 12, library_sequence(h.sequence_number));
  for (std::size_t i = 0; i < walk.field_count; ++i) {
    const auto offset = walk.fields[i].offset;
    if (offset >= length) break;
    switch (command.fields[i].kind) {
      case layout::Kind::ton:
        if (!layout::library_accepts_ton(buffer[offset])) buffer[offset] = 0;
        break;
      case layout::Kind::npi:
        if (!layout::library_accepts_npi(buffer[offset])) buffer[offset] = 0;
        break;
      case layout::Kind::version: buffer[offset] = 0x34; break;
      default: break;
    }
  }

  out = Pdu{};
  out.command_status = h.command_status;
  out.sequence_number = h.sequence_number;
  const DecodeContext ctx{octets, walk, std::move(buffer), length, library_tlvs, detail};
  return decode_body(h.command_id, ctx, out);
}

// ---------------------------------------------------------------- encode

namespace {

std::error_code invalid(std::string* detail, std::string_view field) {
  if (detail) *detail = std::string(field);
  return make_error_code(errc::invalid_field);
}

template <std::size_t N>
bool put_short_message(std::uint8_t (&field)[N], std::uint8_t& length,
                       const std::vector<std::uint8_t>& value) {
  // libsmpp34 refuses sm_length 254 although the specification allows it.
  if (value.size() >= N) return false;
  if (!value.empty()) std::memcpy(field, value.data(), value.size());
  length = static_cast<std::uint8_t>(value.size());
  return true;
}

template <class T>
std::error_code fill_short_message(T& t, const ShortMessageFields& f, std::string* detail) {
  if (!put(t.service_type, f.service_type)) return invalid(detail, "service_type");
  t.source_addr_ton = f.source.ton;
  t.source_addr_npi = f.source.npi;
  if (!put(t.source_addr, f.source.addr)) return invalid(detail, "source_addr");
  t.dest_addr_ton = f.dest.ton;
  t.dest_addr_npi = f.dest.npi;
  if (!put(t.destination_addr, f.dest.addr)) return invalid(detail, "destination_addr");
  t.esm_class = f.esm_class;
  t.protocol_id = f.protocol_id;
  t.priority_flag = f.priority_flag;
  if (!put(t.schedule_delivery_time, f.schedule_delivery_time))
    return invalid(detail, "schedule_delivery_time");
  if (!put(t.validity_period, f.validity_period)) return invalid(detail, "validity_period");
  t.registered_delivery = f.registered_delivery;
  t.replace_if_present_flag = f.replace_if_present_flag;
  t.data_coding = f.data_coding;
  t.sm_default_msg_id = f.sm_default_msg_id;
  if (!put_short_message(t.short_message, t.sm_length, f.short_message))
    return invalid(detail, "short_message");
  return {};
}

struct Encoder {
  const Pdu& pdu;
  std::uint32_t command_id;
  std::string* detail;
  Octets packed;
  const Tlvs& tlvs;  // the PDU's optional parameters
  bool tlvs_by_library = false;

  // Packs a filled struct; TLVs the library can write go into its list.
  template <class T>
  std::error_code pack(T& t, tlv_t* T::*list = nullptr) {
    t.command_length = 0;
    t.command_id = command_id;
    t.command_status = status::ok;
    t.sequence_number = library_sequence(pdu.sequence_number);
    TlvList library_list;
    std::size_t room = 64 + sizeof(T);
    for (const Tlv& tlv : tlvs) room += 4 + tlv.value.size();
    // Frames without a TLV list get theirs appended after packing.
    tlvs_by_library = list != nullptr && !tlvs.empty() && library_can_pack(command_id, tlvs);
    if (tlvs_by_library) {
      if (!build_library_list(command_id, tlvs, library_list)) return invalid(detail, "tlv");
      t.*list = library_list.head;
    }
    packed.assign(room, 0);
    int written = 0;
    std::lock_guard lock(library_mutex);
    const int rc = smpp34_pack(command_id, packed.data(), static_cast<int>(packed.size()),
                               &written, &t);
    // The struct no longer owns the list; TlvList frees it.
    if (list) t.*list = nullptr;
    note_library_log(rc == 0 ? nullptr : detail);
    if (rc != 0) return make_error_code(errc::library_rejected);
    packed.resize(static_cast<std::size_t>(written));
    return {};
  }
};

template <class T>
std::error_code fill_bind(T& t, const BindRequest& b, std::string* detail) {
  if (!put(t.system_id, b.system_id)) return invalid(detail, "system_id");
  if (!put(t.password, b.password)) return invalid(detail, "password");
  if (!put(t.system_type, b.system_type)) return invalid(detail, "system_type");
  t.interface_version = 0x34;
  t.addr_ton = 0;
  t.addr_npi = 0;
  if (!put(t.address_range, b.address_range)) return invalid(detail, "address_range");
  return {};
}

std::error_code pack_body(Encoder& e) {
  using C = CommandId;
  const Pdu& pdu = e.pdu;
  std::string* detail = e.detail;
  switch (static_cast<C>(e.command_id)) {
    case C::bind_transmitter: {
      bind_transmitter_t t{};
      if (auto ec = fill_bind(t, *pdu.as<BindRequest>(), detail)) return ec;
      return e.pack(t);
    }
    case C::bind_receiver: {
      bind_receiver_t t{};
      if (auto ec = fill_bind(t, *pdu.as<BindRequest>(), detail)) return ec;
      return e.pack(t);
    }
    case C::bind_transceiver: {
      bind_transceiver_t t{};
      if (auto ec = fill_bind(t, *pdu.as<BindRequest>(), detail)) return ec;
      return e.pack(t);
    }
    case C::bind_transmitter_resp:
    case C::bind_receiver_resp:
    case C::bind_transceiver_resp: {
      const auto& b = *pdu.as<BindResponse>();
      auto fill = [&](auto& t) -> std::error_code {
        if (!put(t.system_id, b.system_id)) return invalid(detail, "system_id");
        return e.pack(t, &std::remove_reference_t<decltype(t)>::tlv);
      };
      if (e.command_id == id_of(C::bind_transmitter_resp)) {
        bind_transmitter_resp_t t{};
        return fill(t);
      }
      if (e.command_id == id_of(C::bind_receiver_resp)) {
        bind_receiver_resp_t t{};
        return fill(t);
      }
      bind_transceiver_resp_t t{};
      return fill(t);
    }
    case C::outbind: {
      const auto& o = *pdu.as<Outbind>();
      outbind_t t{};
      if (!put(t.system_id, o.system_id)) return invalid(detail, "system_id");
      if (!put(t.password, o.password)) return invalid(detail, "password");
      return e.pack(t);
    }
    case C::unbind: {
      unbind_t t{};
      return e.pack(t);
    }
    case C::unbind_resp: {
      unbind_resp_t t{};
      return e.pack(t);
    }
    case C::enquire_link: {
      enquire_link_t t{};
      return e.pack(t);
    }
    case C::enquire_link_resp: {
      enquire_link_resp_t t{};
      return e.pack(t);
    }
    case C::generic_nack: {
      generic_nack_t t{};
      return e.pack(t);
    }
    case C::submit_sm: {
      const auto& s = *pdu.as<SubmitSm>();
      submit_sm_t t{};
      if (auto ec = fill_short_message(t, s, detail)) return ec;
      return e.pack(t, &submit_sm_t::tlv);
    }
    case C::deliver_sm: {
      const auto& d = *pdu.as<DeliverSm>();
      deliver_sm_t t{};
      if (auto ec = fill_short_message(t, d, detail)) return ec;
      return e.pack(t, &deliver_sm_t::tlv);
    }
    case C::submit_sm_resp: {
      submit_sm_resp_t t{};
      if (!put(t.message_id, pdu.as<SubmitSmResp>()->message_id))
        return invalid(detail, "message_id");
      return e.pack(t);
    }
    case C::deliver_sm_resp: {
      deliver_sm_resp_t t{};
      if (!put(t.message_id, pdu.as<DeliverSmResp>()->message_id))
        return invalid(detail, "message_id");
      return e.pack(t);
    }
    case C::data_sm: {
      const auto& d = *pdu.as<DataSm>();
      data_sm_t t{};
      if (!put(t.service_type, d.service_type)) return invalid(detail, "service_type");
      t.source_addr_ton = d.source.ton;
      t.source_addr_npi = d.source.npi;
      if (!put(t.source_addr, d.source.addr)) return invalid(detail, "source_addr");
      t.dest_addr_ton = d.dest.ton;
      t.dest_addr_npi = d.dest.npi;
      if (!put(t.destination_addr, d.dest.addr)) return invalid(detail, "destination_addr");
      t.esm_class = d.esm_class;
      t.registered_delivery = d.registered_delivery;
      t.data_coding = d.data_coding;
      return e.pack(t, &data_sm_t::tlv);
    }
    case C::data_sm_resp: {
      const auto& d = *pdu.as<DataSmResp>();
      data_sm_resp_t t{};
      if (!put(t.message_id, d.message_id)) return invalid(detail, "message_id");
      return e.pack(t);
    }
    case C::alert_notification: {
      const auto& a = *pdu.as<AlertNotification>();
      alert_notification_t t{};
      t.source_addr_ton = a.source.ton;
      t.source_addr_npi = a.source.npi;
      if (!put(t.source_addr, a.source.addr)) return invalid(detail, "source_addr");
      t.esme_addr_ton = a.esme.ton;
      t.esme_addr_npi = a.esme.npi;
      if (!put(t.esme_addr, a.esme.addr)) return invalid(detail, "esme_addr");
      return e.pack(t, &alert_notification_t::tlv);
    }
  }
  return make_error_code(errc::unknown_command);
}

// Writes back what the library was handed in a form it accepts: TON, NPI and
// interface_version as the caller gave them.
void restore_raw_fields(const Pdu& pdu, Octets& packed) {
  layout::Walk walk;
  if (layout::walk(packed, walk)) return;
  auto set = [&](std::size_t field, std::uint8_t value) {
    if (field < walk.field_count) packed[walk.fields[field].offset] = value;
  };
  if (const auto* b = pdu.as<BindRequest>()) {
    set(3, b->interface_version);
    set(4, b->addr_ton);
    set(5, b->addr_npi);
  } else if (const auto* s = pdu.as<SubmitSm>()) {
    set(1, s->source.ton), set(2, s->source.npi), set(4, s->dest.ton), set(5, s->dest.npi);
  } else if (const auto* d = pdu.as<DeliverSm>()) {
    set(1, d->source.ton), set(2, d->source.npi), set(4, d->dest.ton), set(5, d->dest.npi);
  } else if (const auto* ds = pdu.as<DataSm>()) {
    set(1, ds->source.ton), set(2, ds->source.npi), set(4, ds->dest.ton), set(5, ds->dest.npi);
  } else if (const auto* a = pdu.as<AlertNotification>()) {
    set(0, a->source.ton), set(1, a->source.npi), set(3, a->esme.ton), set(4, a->esme.npi);
  }
}

// Address fields the library checks against its lists are packed as 0 and
// written back afterwards; this copy carries the zeros.
Pdu library_safe_copy(const Pdu& pdu) {
  Pdu copy = pdu;
  auto fix = [](Address& a) {
    if (!layout::library_accepts_ton(a.ton)) a.ton = 0;
    if (!layout::library_accepts_npi(a.npi)) a.npi = 0;
  };
  if (auto* s = copy.as<SubmitSm>()) fix(s->source), fix(s->dest);
  if (auto* d = copy.as<DeliverSm>()) fix(d->source), fix(d->dest);
  if (auto* ds = copy.as<DataSm>()) fix(ds->source), fix(ds->dest);
  if (auto* a = copy.as<AlertNotification>()) fix(a->source), fix(a->esme);
  return copy;
}

}  // namespace

std::error_code encode(const Pdu& pdu, std::vector<std::uint8_t>& out, std::string* detail) {
  const std::uint32_t command_id = static_cast<std::uint32_t>(pdu.command_id());

  // A refused submit is answered with the header alone (section 4.4.2); a
  // message_id given anyway (some SMSCs send one) is kept.
  if (command_id == id_of(CommandId::submit_sm_resp) && pdu.command_status != status::ok &&
      pdu.as<SubmitSmResp>()->message_id.empty() && pdu.tlvs().empty()) {
    Octets header(16);
    write32(header, 0, 16);
    write32(header, 4, command_id);
    write32(header, 8, pdu.command_status);
    write32(header, 12, pdu.sequence_number);
    out.insert(out.end(), header.begin(), header.end());
    return {};
  }

  for (const Tlv& t : pdu.tlvs())
    if (t.value.size() > 0xFFFF) return invalid(detail, "tlv");

  const Pdu safe = library_safe_copy(pdu);
  Encoder e{safe, command_id, detail, {}, safe.tlvs(), false};
  if (auto ec = pack_body(e)) return ec;
  restore_raw_fields(pdu, e.packed);
  if (!e.tlvs_by_library) append_tlvs(e.tlvs, e.packed);
  write32(e.packed, 0, static_cast<std::uint32_t>(e.packed.size()));
  write32(e.packed, 8, pdu.command_status);
  write32(e.packed, 12, pdu.sequence_number);
  out.insert(out.end(), e.packed.begin(), e.packed.end());
  return {};
}

std::uint32_t nack_status_for(std::error_code ec) {
  if (ec.category() != smpp_category()) return status::system_error;
  switch (static_cast<errc>(ec.value())) {
    case errc::unknown_command: return status::invalid_command_id;
    case errc::pdu_too_short:
    case errc::pdu_too_long:
    case errc::length_mismatch:
    case errc::truncated_field: return status::invalid_command_length;
    case errc::bad_tlv: return status::invalid_optional_stream;
    case errc::field_too_long:
    case errc::missing_terminator: return status::invalid_parameter_length;
    default: return status::unknown_error;
  }
}

CodecStats codec_stats() { return CodecStats{max_library_log.load()}; }

}  // namespace giftgate::smpp
