// Value types for the SMPP 3.4 PDUs the gateway sends and receives. They own
// their data, know nothing of the wire format (see codec.hpp) and nothing of
// vouchers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace giftgate::smpp {

// command_id values (SMPP 3.4 section 5.1.2.1).
enum class CommandId : std::uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  outbind = 0x0000000B,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  alert_notification = 0x00000102,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
};

// Name of a command as the specification writes it ("submit_sm").
std::string_view to_string(CommandId id);

// True for response command ids (the high bit set).
constexpr bool is_response(std::uint32_t command_id) { return (command_id & 0x80000000u) != 0; }

// command_status values the gateway acts on (SMPP 3.4 section 5.1.3).
namespace status {
inline constexpr std::uint32_t ok = 0x00000000;
inline constexpr std::uint32_t invalid_message_length = 0x00000001;
inline constexpr std::uint32_t invalid_command_length = 0x00000002;
inline constexpr std::uint32_t invalid_command_id = 0x00000003;
inline constexpr std::uint32_t invalid_bind_status = 0x00000004;
inline constexpr std::uint32_t already_bound = 0x00000005;
inline constexpr std::uint32_t system_error = 0x00000008;
inline constexpr std::uint32_t invalid_dest_addr = 0x0000000B;
inline constexpr std::uint32_t bind_failed = 0x0000000D;
inline constexpr std::uint32_t invalid_password = 0x0000000E;
inline constexpr std::uint32_t invalid_system_id = 0x0000000F;
inline constexpr std::uint32_t message_queue_full = 0x00000014;
inline constexpr std::uint32_t submit_failed = 0x00000045;
inline constexpr std::uint32_t throttled = 0x00000058;
inline constexpr std::uint32_t temporary_app_error = 0x00000064;  // ESME_RX_T_APPN
inline constexpr std::uint32_t permanent_app_error = 0x00000065;  // ESME_RX_P_APPN
inline constexpr std::uint32_t reject_message = 0x00000066;       // ESME_RX_R_APPN
inline constexpr std::uint32_t invalid_optional_stream = 0x000000C0;
inline constexpr std::uint32_t invalid_parameter_length = 0x000000C2;
inline constexpr std::uint32_t unknown_error = 0x000000FF;
}  // namespace status

// Name of a command_status ("ESME_RTHROTTLED"), or its hex value if unknown.
std::string status_name(std::uint32_t command_status);

// Tags of the optional parameters the gateway reads or writes (section 5.3.2).
namespace tag {
inline constexpr std::uint16_t sc_interface_version = 0x0210;
inline constexpr std::uint16_t receipted_message_id = 0x001E;
inline constexpr std::uint16_t user_message_reference = 0x0204;
inline constexpr std::uint16_t source_port = 0x020A;
inline constexpr std::uint16_t destination_port = 0x020B;
inline constexpr std::uint16_t sar_msg_ref_num = 0x020C;
inline constexpr std::uint16_t sar_total_segments = 0x020E;
inline constexpr std::uint16_t sar_segment_seqnum = 0x020F;
inline constexpr std::uint16_t network_error_code = 0x0423;
inline constexpr std::uint16_t message_payload = 0x0424;
inline constexpr std::uint16_t delivery_failure_reason = 0x0425;
inline constexpr std::uint16_t message_state = 0x0427;
inline constexpr std::uint16_t ms_availability_status = 0x0422;
inline constexpr std::uint16_t additional_status_info_text = 0x001D;
inline constexpr std::uint16_t ussd_service_op = 0x0501;
inline constexpr std::uint16_t its_session_info = 0x1383;

// The tags above: those the gateway reads somewhere. Any other tag an SMSC
// sends is skipped, and counted.
inline constexpr std::uint16_t known[] = {
    sc_interface_version, receipted_message_id, user_message_reference, source_port,
    destination_port, sar_msg_ref_num, sar_total_segments, sar_segment_seqnum,
    network_error_code, message_payload, delivery_failure_reason, message_state,
    ms_availability_status, additional_status_info_text, ussd_service_op, its_session_info,
};
}  // namespace tag

// Whether the gateway reads optional parameters of this tag.
bool is_known_tag(std::uint16_t tag);

// One optional parameter, its value kept as the octets on the wire.
struct Tlv {
  std::uint16_t tag = 0;
  std::vector<std::uint8_t> value;

  static Tlv u8(std::uint16_t t, std::uint8_t v);
  static Tlv u16(std::uint16_t t, std::uint16_t v);
  static Tlv u32(std::uint16_t t, std::uint32_t v);
  static Tlv octets(std::uint16_t t, std::span<const std::uint8_t> v);
  // A C-octet string value (the NUL terminator is added).
  static Tlv c_string(std::uint16_t t, std::string_view v);

  friend bool operator==(const Tlv&, const Tlv&) = default;
};

// The optional parameters of one PDU, in wire order.
class Tlvs {
 public:
  Tlvs() = default;
  Tlvs(std::initializer_list<Tlv> list) : items_(list) {}

  const Tlv* find(std::uint16_t tag) const;
  bool has(std::uint16_t tag) const { return find(tag) != nullptr; }
  // Integer values; nullopt when absent or not of the expected size.
  std::optional<std::uint8_t> u8(std::uint16_t tag) const;
  std::optional<std::uint16_t> u16(std::uint16_t tag) const;
  // A string value with any trailing NULs removed; nullopt when absent.
  std::optional<std::string> string(std::uint16_t tag) const;
  // The first octet of the value: ussd_service_op arrives in the generic form.
  std::optional<std::uint8_t> first_octet(std::uint16_t tag) const;

  void add(Tlv tlv) { items_.push_back(std::move(tlv)); }
  // Replaces the value of an existing tag, or adds it.
  void set(Tlv tlv);
  void remove(std::uint16_t tag);

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  const std::vector<Tlv>& items() const { return items_; }

  friend bool operator==(const Tlvs&, const Tlvs&) = default;

 private:
  std::vector<Tlv> items_;
};

// A source or destination address with its type of number and numbering plan.
struct Address {
  std::uint8_t ton = 0;
  std::uint8_t npi = 0;
  std::string addr;

  friend bool operator==(const Address&, const Address&) = default;
};

// The three bind requests differ only in command_id.
enum class BindKind { transmitter, receiver, transceiver };

std::string_view to_string(BindKind kind);

struct BindRequest {
  BindKind kind = BindKind::transceiver;
  std::string system_id;
  std::string password;
  std::string system_type;
  std::uint8_t interface_version = 0x34;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;
  Tlvs tlvs;

  friend bool operator==(const BindRequest&, const BindRequest&) = default;
};

struct BindResponse {
  BindKind kind = BindKind::transceiver;
  std::string system_id;
  Tlvs tlvs;

  friend bool operator==(const BindResponse&, const BindResponse&) = default;
};

struct Outbind {
  std::string system_id;
  std::string password;
  Tlvs tlvs;
  friend bool operator==(const Outbind&, const Outbind&) = default;
};

// The PDUs with no mandatory body. SMPP 3.4 gives them no optional
// parameters either, but SMSCs add some; they are kept, not refused.
struct Unbind {
  Tlvs tlvs;
  friend bool operator==(const Unbind&, const Unbind&) = default;
};
struct UnbindResp {
  Tlvs tlvs;
  friend bool operator==(const UnbindResp&, const UnbindResp&) = default;
};
struct EnquireLink {
  Tlvs tlvs;
  friend bool operator==(const EnquireLink&, const EnquireLink&) = default;
};
struct EnquireLinkResp {
  Tlvs tlvs;
  friend bool operator==(const EnquireLinkResp&, const EnquireLinkResp&) = default;
};
struct GenericNack {
  Tlvs tlvs;
  friend bool operator==(const GenericNack&, const GenericNack&) = default;
};

// The fields submit_sm and deliver_sm share (sections 4.4.1 and 4.6.1).
struct ShortMessageFields {
  std::string service_type;
  Address source;
  Address dest;
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;  // always empty in deliver_sm
  std::string validity_period;         // always empty in deliver_sm
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::vector<std::uint8_t> short_message;
  Tlvs tlvs;

  friend bool operator==(const ShortMessageFields&, const ShortMessageFields&) = default;
};

struct SubmitSm : ShortMessageFields {};
struct DeliverSm : ShortMessageFields {};

struct SubmitSmResp {
  std::string message_id;
  Tlvs tlvs;
  friend bool operator==(const SubmitSmResp&, const SubmitSmResp&) = default;
};

struct DeliverSmResp {
  std::string message_id;  // unused by SMPP 3.4, always empty
  Tlvs tlvs;
  friend bool operator==(const DeliverSmResp&, const DeliverSmResp&) = default;
};

struct DataSm {
  std::string service_type;
  Address source;
  Address dest;
  std::uint8_t esm_class = 0;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  Tlvs tlvs;
  friend bool operator==(const DataSm&, const DataSm&) = default;
};

struct DataSmResp {
  std::string message_id;
  Tlvs tlvs;
  friend bool operator==(const DataSmResp&, const DataSmResp&) = default;
};

struct AlertNotification {
  Address source;
  Address esme;
  Tlvs tlvs;
  friend bool operator==(const AlertNotification&, const AlertNotification&) = default;
};

using Body = std::variant<BindRequest, BindResponse, Outbind, Unbind, UnbindResp, EnquireLink,
                          EnquireLinkResp, GenericNack, SubmitSm, SubmitSmResp, DeliverSm,
                          DeliverSmResp, DataSm, DataSmResp, AlertNotification>;

// A whole PDU: the header's status and sequence number plus a typed body (the
// body's type fixes command_id; command_length is computed on encoding).
struct Pdu {
  std::uint32_t command_status = status::ok;
  std::uint32_t sequence_number = 0;
  Body body;

  CommandId command_id() const;
  // The body's optional parameters (every body type has them).
  const Tlvs& tlvs() const;
  template <class T>
  const T* as() const { return std::get_if<T>(&body); }
  template <class T>
  T* as() { return std::get_if<T>(&body); }

  friend bool operator==(const Pdu&, const Pdu&) = default;
};

// How many of a PDU's optional parameters are of tags the gateway does not
// read (vendors' own, mostly).
std::size_t unknown_tlv_count(const Pdu& pdu);

// A data_sm's fields as a deliver_sm carries them (its text, if any, in
// message_payload; the fields data_sm lacks left at zero), so that one path
// reads the MOs and receipts of both.
DeliverSm as_deliver_sm(const DataSm& data);

// The command_id of a bind request or response of the given kind.
CommandId bind_command(BindKind kind, bool response);

// The response command for a request command (deliver_sm -> deliver_sm_resp).
std::optional<CommandId> response_command(CommandId request);

// esm_class bits (section 5.2.12).
namespace esm {
inline constexpr std::uint8_t type_mask = 0x3C;
inline constexpr std::uint8_t smsc_receipt = 0x04;
inline constexpr std::uint8_t sme_ack = 0x08;
inline constexpr std::uint8_t user_ack = 0x10;
inline constexpr std::uint8_t intermediate_notification = 0x20;
inline constexpr std::uint8_t udhi = 0x40;
inline constexpr std::uint8_t reply_path = 0x80;
}  // namespace esm

// registered_delivery values (section 5.2.17).
namespace registered {
inline constexpr std::uint8_t none = 0x00;
inline constexpr std::uint8_t receipt = 0x01;
inline constexpr std::uint8_t receipt_on_failure = 0x02;
inline constexpr std::uint8_t intermediate = 0x10;
}  // namespace registered

}  // namespace giftgate::smpp
