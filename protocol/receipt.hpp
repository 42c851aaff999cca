// Delivery receipts: reading the state of a submitted message out of a
// deliver_sm or data_sm, and putting message ids into the one form in which
// the id from submit_sm_resp and the id in the receipt can be compared.
//
// Receipts are untrusted input that SMSCs format in many ways: the text
// follows the informal layout of SMPP 3.4 Appendix B with fields reordered or
// missing, and the receipted_message_id / message_state TLVs may carry the
// same facts. Nothing here throws; a receipt that cannot be read is nullopt.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/pdu.hpp"

namespace giftgate::smpp {

// State of a message at the SMSC; the values are those of the message_state
// TLV (SMPP 3.4 section 5.3.2.35).
enum class MessageState : std::uint8_t {
  enroute = 1,
  delivered = 2,
  expired = 3,
  deleted = 4,
  undeliverable = 5,
  accepted = 6,
  unknown = 7,
  rejected = 8,
};

// Reads a receipt's stat: value (DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD,
// UNKNOWN, REJECTD, ENROUTE, or the full names some SMSCs write, such as
// DELIVERED), in any letter case; nullopt for anything else.
std::optional<MessageState> parse_stat(std::string_view text);

// The seven-letter stat: spelling of a state ("DELIVRD").
std::string_view to_string(MessageState state);

// The message_state TLV value as a state; nullopt outside 1..8.
std::optional<MessageState> message_state_from_octet(std::uint8_t value);

// True when no further receipt is expected for the message. Only ENROUTE is
// transient: SMPP 3.4 section 5.2.28 calls every other state final, ACCEPTED
// included (customer service read the message on the subscriber's behalf),
// and UNKNOWN means the SMSC lost track of it, which will not get better.
// Whether an ACCEPTD sent as an intermediate notification (esm_class 0x20)
// should still be treated as final is the caller's policy, not decided here.
bool is_final(MessageState state);

// True when esm_class marks the message as an SMSC delivery receipt (0x04) or
// an intermediate notification (0x20) rather than a mobile-originated text.
bool is_delivery_receipt(std::uint8_t esm_class);

// What a delivery receipt says about one submitted message.
struct DeliveryReceipt {
  std::string message_id;                    // raw, as the SMSC wrote it
  std::optional<MessageState> state;         // nullopt: no or unreadable stat
  std::optional<unsigned> submitted;         // sub:
  std::optional<unsigned> delivered;         // dlvrd:
  std::string submit_date;                   // raw digits; see parse_receipt_date
  std::string done_date;                     // raw digits; see parse_receipt_date
  std::optional<unsigned> error;             // err:
  std::optional<std::array<std::uint8_t, 3>> network_error;  // network_error_code TLV
  std::string text;                          // text: (start of the original message)
  bool id_from_tlv = false;                  // message_id came from receipted_message_id
  bool state_from_tlv = false;               // state came from message_state
};

// Parses receipt text such as "id:123 sub:001 dlvrd:001 submit date:2401011200
// done date:2401011201 stat:DELIVRD err:000 text:Hello". Keys are matched in
// any letter case and order, with spaces allowed around ':' and inside
// "submit date" / "done date"; missing fields stay empty, but an id is
// required. text: takes the rest of its line. When a key appears twice the
// first one wins, so message text echoed in text: cannot overwrite fields.
// On false, out is left unchanged.
bool parse_receipt_text(std::string_view text, DeliveryReceipt& out);

// Reads a receipt from a deliver_sm: text from short_message or
// message_payload, then the receipted_message_id, message_state and
// network_error_code TLVs, which win over the text when both are present.
// Text sent with data_coding 8 is read as ASCII when it is ASCII (many SMSCs
// do this whatever data_coding says) and as UCS-2 otherwise. esm_class is not
// checked: deciding what counts as a receipt is is_delivery_receipt's job and
// the caller's policy. nullopt when no message id can be found.
std::optional<DeliveryReceipt> parse_delivery_receipt(const DeliverSm& pdu);

// The same for a receipt carried by data_sm (text only in message_payload).
std::optional<DeliveryReceipt> parse_delivery_receipt(const DataSm& pdu);

// Reads a receipt date, YYMMDDhhmm or YYMMDDhhmmss, as UTC in 2000-2099 (the
// format carries no zone and SMSCs rarely say which they use). nullopt for
// other lengths, non-digits or out-of-range fields (month 13, 30 February).
std::optional<std::chrono::sys_seconds> parse_receipt_date(std::string_view digits);

// How an SMSC writes its message ids; see normalize_message_id.
enum class IdFormat {
  automatic,  // guess per id: digits are decimal, a-f makes it hex
  decimal,    // numeric ids in decimal
  hex,        // numeric ids in hexadecimal
  as_is,      // opaque ids, compared exactly
};

// The form in which message ids are stored and compared, so that an SMSC
// answering submit_sm with "1A2B" and sending its receipt for "6699" (or
// "006699") still matches. Spaces and NULs around the id are removed in every
// format. decimal: leading zeros dropped ("0" for all zeros). hex: converted to
// a decimal string of any length, letter case ignored. automatic: all digits
// are read as decimal, digits mixed with a-f as hex, and anything else (UUIDs,
// other alphanumeric ids) is kept but lower-cased, as is an id that is not a
// number in the base chosen with decimal or hex. as_is: only the trimming.
//
// Normally one IdFormat serves both sides of a comparison (the id from
// submit_sm_resp and the id in the receipt); ids normalized with different
// formats need not match (as_is keeps "0012", decimal makes it "12").
// automatic has one blind spot: a hex id made only of digits ("1000", meaning
// 4096) is read as decimal; read_message_id and IdFormatLearner give both
// readings until the format is known. When an SMSC writes hex in
// submit_sm_resp and decimal in its receipts, the configuration may name each
// side's real format (hex for the response ids, decimal for the receipt ids);
// forcing hex on both would misread the decimal side.
std::string normalize_message_id(std::string_view raw, IdFormat format);

// The ways an id can be read. An id of digits only is a decimal number or a
// hexadecimal one ("1001" is 1001 or 4097), and one id cannot tell which;
// every other id has one reading. `second` is empty when there is one.
struct IdReadings {
  std::string first;   // normalize_message_id(raw, format)
  std::string second;  // automatic and digits only: the hexadecimal reading
};
IdReadings read_message_id(std::string_view raw, IdFormat format);

// Learns how an SMSC writes the ids on one side (its submit_sm_resp, or its
// receipts) from the ids themselves: a-f among digits means hexadecimal,
// anything beyond hex digits an opaque id, and many ids of digits only
// decimal (a hexadecimal counter shows a letter within 16 ids, random
// hexadecimal ids sooner). Until then it answers automatic, and ids of
// digits only have two readings.
class IdFormatLearner {
 public:
  // `configured`: the configured format; anything but automatic is final.
  explicit IdFormatLearner(IdFormat configured = IdFormat::automatic);

  // Takes one id into account; true when this id settled the format.
  bool observe(std::string_view raw);
  // The format now: the configured one, the learnt one, or automatic.
  IdFormat format() const { return format_; }
  IdReadings read(std::string_view raw) const { return read_message_id(raw, format_); }

  // Ids of digits only seen before decimal is concluded.
  static constexpr unsigned kDecimalAfter = 32;

 private:
  IdFormat format_;
  bool learning_;
  unsigned digits_only_ = 0;
};

// What the optional parameters of a submit_sm_resp or a receipt say about a
// message's fate, for people: "delivery_failure_reason 2,
// network_error_code 03:000B, status_text 'queue full'"; empty when none of
// additional_status_info_text, delivery_failure_reason or network_error_code
// is there.
std::string failure_details(const Tlvs& tlvs);

// The string of IdFormat ("auto", "decimal", "hex", "as_is").
std::string_view to_string(IdFormat format);

}  // namespace giftgate::smpp
