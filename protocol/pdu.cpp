#include "protocol/pdu.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace giftgate::smpp {

std::string_view to_string(CommandId id) {
  switch (id) {
    case CommandId::generic_nack: return "generic_nack";
    case CommandId::bind_receiver: return "bind_receiver";
    case CommandId::bind_receiver_resp: return "bind_receiver_resp";
    case CommandId::bind_transmitter: return "bind_transmitter";
    case CommandId::bind_transmitter_resp: return "bind_transmitter_resp";
    case CommandId::submit_sm: return "submit_sm";
    case CommandId::submit_sm_resp: return "submit_sm_resp";
    case CommandId::deliver_sm: return "deliver_sm";
    case CommandId::deliver_sm_resp: return "deliver_sm_resp";
    case CommandId::unbind: return "unbind";
    case CommandId::unbind_resp: return "unbind_resp";
    case CommandId::bind_transceiver: return "bind_transceiver";
    case CommandId::bind_transceiver_resp: return "bind_transceiver_resp";
    case CommandId::outbind: return "outbind";
    case CommandId::enquire_link: return "enquire_link";
    case CommandId::enquire_link_resp: return "enquire_link_resp";
    case CommandId::alert_notification: return "alert_notification";
    case CommandId::data_sm: return "data_sm";
    case CommandId::data_sm_resp: return "data_sm_resp";
  }
  return "unknown";
}

std::string status_name(std::uint32_t s) {
  switch (s) {
    case 0x00: return "ESME_ROK";
    case 0x01: return "ESME_RINVMSGLEN";
    case 0x02: return "ESME_RINVCMDLEN";
    case 0x03: return "ESME_RINVCMDID";
    case 0x04: return "ESME_RINVBNDSTS";
    case 0x05: return "ESME_RALYBND";
    case 0x06: return "ESME_RINVPRTFLG";
    case 0x07: return "ESME_RINVREGDLVFLG";
    case 0x08: return "ESME_RSYSERR";
    case 0x0A: return "ESME_RINVSRCADR";
    case 0x0B: return "ESME_RINVDSTADR";
    case 0x0C: return "ESME_RINVMSGID";
    case 0x0D: return "ESME_RBINDFAIL";
    case 0x0E: return "ESME_RINVPASWD";
    case 0x0F: return "ESME_RINVSYSID";
    case 0x14: return "ESME_RMSGQFUL";
    case 0x15: return "ESME_RINVSERTYP";
    case 0x43: return "ESME_RINVESMCLASS";
    case 0x45: return "ESME_RSUBMITFAIL";
    case 0x48: return "ESME_RINVSRCTON";
    case 0x49: return "ESME_RINVSRCNPI";
    case 0x50: return "ESME_RINVDSTTON";
    case 0x51: return "ESME_RINVDSTNPI";
    case 0x58: return "ESME_RTHROTTLED";
    case 0x61: return "ESME_RINVSCHED";
    case 0x62: return "ESME_RINVEXPIRY";
    case 0x64: return "ESME_RX_T_APPN";
    case 0x65: return "ESME_RX_P_APPN";
    case 0x66: return "ESME_RX_R_APPN";
    case 0xC0: return "ESME_RINVOPTPARSTREAM";
    case 0xC1: return "ESME_ROPTPARNOTALLWD";
    case 0xC2: return "ESME_RINVPARLEN";
    case 0xC3: return "ESME_RMISSINGOPTPARAM";
    case 0xC4: return "ESME_RINVOPTPARAMVAL";
    case 0xFE: return "ESME_RDELIVERYFAILURE";
    case 0xFF: return "ESME_RUNKNOWNERR";
    default: break;
  }
  if (s >= 0x400 && s <= 0x4FF) return fmt::format("vendor:0x{:08X}", s);
  return fmt::format("0x{:08X}", s);
}

std::string_view to_string(BindKind kind) {
  switch (kind) {
    case BindKind::transmitter: return "transmitter";
    case BindKind::receiver: return "receiver";
    case BindKind::transceiver: return "transceiver";
  }
  return "unknown";
}

Tlv Tlv::u8(std::uint16_t t, std::uint8_t v) { return Tlv{t, {v}}; }

Tlv Tlv::u16(std::uint16_t t, std::uint16_t v) {
  return Tlv{t, {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}};
}

Tlv Tlv::u32(std::uint16_t t, std::uint32_t v) {
  return Tlv{t,
             {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
              static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}};
}

Tlv Tlv::octets(std::uint16_t t, std::span<const std::uint8_t> v) {
  return Tlv{t, std::vector<std::uint8_t>(v.begin(), v.end())};
}

Tlv Tlv::c_string(std::uint16_t t, std::string_view v) {
  Tlv tlv{t, std::vector<std::uint8_t>(v.begin(), v.end())};
  tlv.value.push_back(0);
  return tlv;
}

const Tlv* Tlvs::find(std::uint16_t t) const {
  for (const auto& tlv : items_)
    if (tlv.tag == t) return &tlv;
  return nullptr;
}

std::optional<std::uint8_t> Tlvs::u8(std::uint16_t t) const {
  const Tlv* tlv = find(t);
  if (!tlv || tlv->value.size() != 1) return std::nullopt;
  return tlv->value[0];
}

std::optional<std::uint16_t> Tlvs::u16(std::uint16_t t) const {
  const Tlv* tlv = find(t);
  if (!tlv || tlv->value.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((tlv->value[0] << 8) | tlv->value[1]);
}

std::optional<std::string> Tlvs::string(std::uint16_t t) const {
  const Tlv* tlv = find(t);
  if (!tlv) return std::nullopt;
  std::string s(tlv->value.begin(), tlv->value.end());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::optional<std::uint8_t> Tlvs::first_octet(std::uint16_t t) const {
  const Tlv* tlv = find(t);
  if (!tlv || tlv->value.empty()) return std::nullopt;
  return tlv->value[0];
}

void Tlvs::set(Tlv tlv) {
  for (auto& existing : items_)
    if (existing.tag == tlv.tag) {
      existing = std::move(tlv);
      return;
    }
  items_.push_back(std::move(tlv));
}

void Tlvs::remove(std::uint16_t t) {
  std::erase_if(items_, [t](const Tlv& tlv) { return tlv.tag == t; });
}

CommandId bind_command(BindKind kind, bool response) {
  switch (kind) {
    case BindKind::transmitter:
      return response ? CommandId::bind_transmitter_resp : CommandId::bind_transmitter;
    case BindKind::receiver:
      return response ? CommandId::bind_receiver_resp : CommandId::bind_receiver;
    case BindKind::transceiver:
      break;
  }
  return response ? CommandId::bind_transceiver_resp : CommandId::bind_transceiver;
}

CommandId Pdu::command_id() const {
  struct Visitor {
    CommandId operator()(const BindRequest& b) const { return bind_command(b.kind, false); }
    CommandId operator()(const BindResponse& b) const { return bind_command(b.kind, true); }
    CommandId operator()(const Outbind&) const { return CommandId::outbind; }
    CommandId operator()(const Unbind&) const { return CommandId::unbind; }
    CommandId operator()(const UnbindResp&) const { return CommandId::unbind_resp; }
    CommandId operator()(const EnquireLink&) const { return CommandId::enquire_link; }
    CommandId operator()(const EnquireLinkResp&) const { return CommandId::enquire_link_resp; }
    CommandId operator()(const GenericNack&) const { return CommandId::generic_nack; }
    CommandId operator()(const SubmitSm&) const { return CommandId::submit_sm; }
    CommandId operator()(const SubmitSmResp&) const { return CommandId::submit_sm_resp; }
    CommandId operator()(const DeliverSm&) const { return CommandId::deliver_sm; }
    CommandId operator()(const DeliverSmResp&) const { return CommandId::deliver_sm_resp; }
    CommandId operator()(const DataSm&) const { return CommandId::data_sm; }
    CommandId operator()(const DataSmResp&) const { return CommandId::data_sm_resp; }
    CommandId operator()(const AlertNotification&) const {
      return CommandId::alert_notification;
    }
  };
  return std::visit(Visitor{}, body);
}

const Tlvs& Pdu::tlvs() const {
  return std::visit([](const auto& b) -> const Tlvs& { return b.tlvs; }, body);
}

bool is_known_tag(std::uint16_t t) { return std::ranges::find(tag::known, t) != std::end(tag::known); }

std::size_t unknown_tlv_count(const Pdu& pdu) {
  const Tlvs& tlvs = pdu.tlvs();
  return static_cast<std::size_t>(
      std::ranges::count_if(tlvs, [](const Tlv& t) { return !is_known_tag(t.tag); }));
}

DeliverSm as_deliver_sm(const DataSm& data) {
  DeliverSm d;
  d.service_type = data.service_type;
  d.source = data.source;
  d.dest = data.dest;
  d.esm_class = data.esm_class;
  d.registered_delivery = data.registered_delivery;
  d.data_coding = data.data_coding;
  d.tlvs = data.tlvs;
  return d;
}

std::optional<CommandId> response_command(CommandId request) {
  switch (request) {
    case CommandId::bind_receiver: return CommandId::bind_receiver_resp;
    case CommandId::bind_transmitter: return CommandId::bind_transmitter_resp;
    case CommandId::bind_transceiver: return CommandId::bind_transceiver_resp;
    case CommandId::submit_sm: return CommandId::submit_sm_resp;
    case CommandId::deliver_sm: return CommandId::deliver_sm_resp;
    case CommandId::unbind: return CommandId::unbind_resp;
    case CommandId::enquire_link: return CommandId::enquire_link_resp;
    case CommandId::data_sm: return CommandId::data_sm_resp;
    default: return std::nullopt;
  }
}

}  // namespace giftgate::smpp
