// libFuzzer target: delivery receipt text as an SMSC might write it, through
// parse_receipt_text and parse_delivery_receipt, and the ids it yields through
// normalize_message_id. Beyond not crashing:
// - every field read from the text is a piece of the text, an id never holds
//   a separator, and counts are within the nine digits they may have;
// - a receipt written back in the canonical layout reads as the same receipt;
// - a normalised id is stable (normalising it again changes nothing) and a
//   short hexadecimal id becomes the number strtoull makes of it;
// - a receipt date read is one that formats back to the same digits.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "protocol/receipt.hpp"

using namespace giftgate::smpp;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

bool within(std::string_view whole, std::string_view part) {
  return part.empty() || whole.find(part) != std::string_view::npos;
}

// The receipt in the layout of SMPP 3.4 Appendix B, text: last since it
// takes the rest of its line.
std::string write_receipt(const DeliveryReceipt& r) {
  std::string out = "id:" + r.message_id;
  if (r.submitted) out += fmt::format(" sub:{}", *r.submitted);
  if (r.delivered) out += fmt::format(" dlvrd:{}", *r.delivered);
  if (!r.submit_date.empty()) out += " submit date:" + r.submit_date;
  if (!r.done_date.empty()) out += " done date:" + r.done_date;
  if (r.state) out += " stat:" + std::string(to_string(*r.state));
  if (r.error) out += fmt::format(" err:{}", *r.error);
  if (!r.text.empty()) out += " text:" + r.text;
  return out;
}

bool same_fields(const DeliveryReceipt& a, const DeliveryReceipt& b) {
  return a.message_id == b.message_id && a.state == b.state && a.submitted == b.submitted &&
         a.delivered == b.delivered && a.submit_date == b.submit_date &&
         a.done_date == b.done_date && a.error == b.error && a.text == b.text;
}

void check_id(std::string_view raw) {
  for (auto format : {IdFormat::automatic, IdFormat::decimal, IdFormat::hex, IdFormat::as_is}) {
    const std::string id = normalize_message_id(raw, format);
    require(id.empty() || (!is_separator(id.front()) && !is_separator(id.back())));
    if (format != IdFormat::hex) require(normalize_message_id(id, format) == id);
    const auto readings = read_message_id(raw, format);
    require(readings.first == id);
    require(readings.second != id || id.empty());
  }
  // A hex id short enough for 64 bits, checked against the C library.
  std::string_view trimmed = raw;
  while (!trimmed.empty() && is_separator(trimmed.front())) trimmed.remove_prefix(1);
  while (!trimmed.empty() && is_separator(trimmed.back())) trimmed.remove_suffix(1);
  if (!trimmed.empty() && trimmed.size() <= 15 &&
      std::all_of(trimmed.begin(), trimmed.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      })) {
    const unsigned long long value = std::strtoull(std::string(trimmed).c_str(), nullptr, 16);
    require(normalize_message_id(raw, IdFormat::hex) == std::to_string(value));
  }
}

void check_date(std::string_view digits) {
  const auto when = parse_receipt_date(digits);
  if (!when) return;
  const auto day = std::chrono::floor<std::chrono::days>(*when);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{*when - day};
  std::string back = fmt::format("{:02}{:02}{:02}{:02}{:02}", static_cast<int>(ymd.year()) - 2000,
                                 static_cast<unsigned>(ymd.month()),
                                 static_cast<unsigned>(ymd.day()), hms.hours().count(),
                                 hms.minutes().count());
  if (digits.size() == 12) back += fmt::format("{:02}", hms.seconds().count());
  require(back == digits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  DeliveryReceipt r;
  r.message_id = "untouched";
  if (!parse_receipt_text(text, r)) {
    require(r.message_id == "untouched");  // left unchanged on false
  } else {
    require(!r.message_id.empty());
    require(std::none_of(r.message_id.begin(), r.message_id.end(), is_separator));
    for (std::string_view field : {std::string_view(r.message_id), std::string_view(r.submit_date),
                                   std::string_view(r.done_date), std::string_view(r.text)})
      require(within(text, field));
    for (const auto& count : {r.submitted, r.delivered, r.error})
      require(!count || *count <= 999'999'999u);
    require(r.text.find_first_of("\r\n") == std::string::npos);

    DeliveryReceipt again;
    require(parse_receipt_text(write_receipt(r), again));
    require(same_fields(r, again));

    check_id(r.message_id);
    check_date(r.submit_date);
    check_date(r.done_date);
  }
  check_id(text.substr(0, 64));
  check_date(text.substr(0, 12));
  check_date(text.substr(0, 10));

  // The same octets as a deliver_sm's short_message, in ASCII and as UCS-2
  // (where ASCII text is read as such when it is a receipt).
  DeliverSm pdu;
  pdu.esm_class = 0x04;
  pdu.short_message.assign(data, data + std::min<std::size_t>(size, 254));
  for (std::uint8_t coding : {std::uint8_t{0}, std::uint8_t{8}}) {
    pdu.data_coding = coding;
    const auto parsed = parse_delivery_receipt(pdu);
    if (!parsed) continue;
    require(!parsed->message_id.empty() && !parsed->id_from_tlv && !parsed->state_from_tlv);
    if (coding == 0) {
      DeliveryReceipt direct;
      std::string_view octets(reinterpret_cast<const char*>(pdu.short_message.data()),
                              pdu.short_message.size());
      while (!octets.empty() && octets.back() == '\0') octets.remove_suffix(1);
      require(parse_receipt_text(octets, direct) && same_fields(direct, *parsed));
    }
  }
  // The TLVs win over the text.
  pdu.data_coding = 0;
  pdu.tlvs.add(Tlv::c_string(tag::receipted_message_id, "FEED01"));
  pdu.tlvs.add(Tlv::u8(tag::message_state, 5));
  const auto with_tlvs = parse_delivery_receipt(pdu);
  require(with_tlvs && with_tlvs->message_id == "FEED01" && with_tlvs->id_from_tlv &&
          with_tlvs->state == MessageState::undeliverable);
  return 0;
}
