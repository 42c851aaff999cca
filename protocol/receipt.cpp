#include "protocol/receipt.hpp"

#include <algorithm>
#include <span>
#include <vector>

#include <fmt/format.h>

namespace giftgate::smpp {

namespace {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Blanks inside one line of receipt text.
constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Anything that separates receipt fields; NULs appear as padding.
constexpr bool is_separator(char c) { return is_blank(c) || c == '\r' || c == '\n' || c == '\0'; }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char l = ascii_lower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

bool all_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return hex_value(c) >= 0; });
}

// sub:, dlvrd: and err: are three digits by convention; nine keeps any sane
// value while ruling out overflow of unsigned.
std::optional<unsigned> parse_count(std::string_view s) {
  if (!all_digits(s) || s.size() > 9) return std::nullopt;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

enum class Key { id, sub, dlvrd, submit_date, done_date, stat, err, text };
constexpr std::size_t key_count = 8;

struct KeyMatch {
  Key key;
  std::size_t after;  // position just past the ':'
};

// Recognises "key:" at pos, with blanks allowed before the ':' and between
// the two words of "submit date" / "done date" (or an underscore there).
std::optional<KeyMatch> match_key(std::string_view s, std::size_t pos) {
  auto read_word = [&s](std::size_t& p) {
    const std::size_t start = p;
    while (p < s.size() && is_letter(s[p])) ++p;
    return s.substr(start, p - start);
  };
  std::size_t p = pos;
  const std::string_view word = read_word(p);
  if (word.empty()) return std::nullopt;

  Key key;
  if (iequals(word, "id")) key = Key::id;
  else if (iequals(word, "sub")) key = Key::sub;
  else if (iequals(word, "dlvrd")) key = Key::dlvrd;
  else if (iequals(word, "stat")) key = Key::stat;
  else if (iequals(word, "err")) key = Key::err;
  else if (iequals(word, "text")) key = Key::text;
  else if (iequals(word, "submit") || iequals(word, "done")) {
    key = iequals(word, "done") ? Key::done_date : Key::submit_date;
    const std::size_t before_gap = p;
    while (p < s.size() && is_blank(s[p])) ++p;
    if (p == before_gap && p < s.size() && s[p] == '_') ++p;
    if (!iequals(read_word(p), "date")) return std::nullopt;
  } else {
    return std::nullopt;
  }
  while (p < s.size() && is_blank(s[p])) ++p;
  if (p >= s.size() || s[p] != ':') return std::nullopt;
  return KeyMatch{key, p + 1};
}

// Fills whatever fields the text holds; true when it held a non-empty id.
bool read_text_fields(std::string_view s, DeliveryReceipt& r) {
  std::array<bool, key_count> seen{};
  std::size_t pos = 0;
  while (pos < s.size()) {
    while (pos < s.size() && is_separator(s[pos])) ++pos;
    if (pos >= s.size()) break;
    const auto match = match_key(s, pos);
    if (!match) {
      // Not a field: skip the whole token so that "xid:1" is not read as id.
      while (pos < s.size() && !is_separator(s[pos])) ++pos;
      continue;
    }
    pos = match->after;
    while (pos < s.size() && is_blank(s[pos])) ++pos;

    std::string_view value;
    if (match->key == Key::text) {
      std::size_t end = pos;
      while (end < s.size() && s[end] != '\n' && s[end] != '\r') ++end;
      value = s.substr(pos, end - pos);
      while (!value.empty() && (is_blank(value.back()) || value.back() == '\0'))
        value.remove_suffix(1);
      pos = end;
    } else if (!match_key(s, pos)) {
      // An empty value followed by the next key ("err: text:") stays empty.
      std::size_t end = pos;
      while (end < s.size() && !is_separator(s[end])) ++end;
      value = s.substr(pos, end - pos);
      pos = end;
    }

    auto& already = seen[static_cast<std::size_t>(match->key)];
    if (already) continue;
    already = true;
    switch (match->key) {
      case Key::id: r.message_id = std::string(value); break;
      case Key::sub: r.submitted = parse_count(value); break;
      case Key::dlvrd: r.delivered = parse_count(value); break;
      case Key::submit_date: r.submit_date = std::string(value); break;
      case Key::done_date: r.done_date = std::string(value); break;
      case Key::stat: r.state = parse_stat(value); break;
      case Key::err: r.error = parse_count(value); break;
      case Key::text: r.text = std::string(value); break;
    }
  }
  return !r.message_id.empty();
}

std::span<const std::uint8_t> without_trailing_nuls(std::span<const std::uint8_t> octets) {
  while (!octets.empty() && octets.back() == 0) octets = octets.first(octets.size() - 1);
  return octets;
}

// Receipt text is ASCII; anything else in UCS-2 becomes '?' (one per
// character, so a surrogate pair gives one). An odd last octet is dropped.
std::string ucs2be_to_ascii(std::span<const std::uint8_t> octets) {
  std::string out;
  out.reserve(octets.size() / 2);
  for (std::size_t i = 0; i + 1 < octets.size(); i += 2) {
    const unsigned unit = static_cast<unsigned>(octets[i] << 8 | octets[i + 1]);
    if (unit < 0x80) out.push_back(static_cast<char>(unit));
    else if (unit < 0xDC00 || unit > 0xDFFF) out.push_back('?');
  }
  return out;
}

// Many SMSCs send ASCII receipt text under data_coding 8, so with 8 the
// octets are tried as ASCII first and as UCS-2 only when that does not work.
std::string decode_receipt_text(std::span<const std::uint8_t> octets, std::uint8_t data_coding) {
  const auto trimmed = without_trailing_nuls(octets);
  std::string ascii(trimmed.begin(), trimmed.end());
  if (data_coding != 8) return ascii;

  const bool ascii_like = std::find(trimmed.begin(), trimmed.end(), 0) == trimmed.end();
  if (ascii_like) {
    DeliveryReceipt probe;
    if (read_text_fields(ascii, probe)) return ascii;
  }
  std::string ucs2 = ucs2be_to_ascii(octets);
  DeliveryReceipt probe;
  if (read_text_fields(ucs2, probe) || !ascii_like) return ucs2;
  return ascii;
}

std::optional<DeliveryReceipt> receipt_from(std::span<const std::uint8_t> octets,
                                            std::uint8_t data_coding, const Tlvs& tlvs) {
  DeliveryReceipt r;
  if (!octets.empty()) read_text_fields(decode_receipt_text(octets, data_coding), r);

  if (auto id = tlvs.string(tag::receipted_message_id)) {
    // A C-octet string ends at its first NUL, whatever follows it.
    id->resize(std::min(id->size(), id->find('\0')));
    const bool blank = std::all_of(id->begin(), id->end(), is_separator);
    if (!blank) {
      r.message_id = std::move(*id);
      r.id_from_tlv = true;
    }
  }
  if (auto octet = tlvs.u8(tag::message_state))
    if (auto state = message_state_from_octet(*octet)) {
      r.state = state;
      r.state_from_tlv = true;
    }
  if (const Tlv* nec = tlvs.find(tag::network_error_code); nec && nec->value.size() == 3)
    r.network_error = std::array<std::uint8_t, 3>{nec->value[0], nec->value[1], nec->value[2]};

  if (r.message_id.empty()) return std::nullopt;
  return r;
}

std::span<const std::uint8_t> payload_of(const Tlvs& tlvs) {
  const Tlv* payload = tlvs.find(tag::message_payload);
  if (!payload) return {};
  return payload->value;
}

// Decimal digits with leading zeros dropped; "0" when all are zeros.
std::string strip_leading_zeros(std::string_view digits) {
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string_view::npos) return "0";
  return std::string(digits.substr(first));
}

// Hex of any length to decimal, in base-10^9 limbs so nothing can overflow.
std::string hex_to_decimal(std::string_view hex) {
  constexpr std::uint64_t limb_base = 1'000'000'000;
  std::vector<std::uint32_t> limbs{0};  // least significant first
  for (char c : hex) {
    std::uint64_t carry = static_cast<std::uint64_t>(hex_value(c));
    for (auto& limb : limbs) {
      const std::uint64_t v = std::uint64_t{limb} * 16 + carry;
      limb = static_cast<std::uint32_t>(v % limb_base);
      carry = v / limb_base;
    }
    if (carry != 0) limbs.push_back(static_cast<std::uint32_t>(carry));
  }
  std::string out = std::to_string(limbs.back());
  for (auto it = limbs.rbegin() + 1; it != limbs.rend(); ++it) {
    const std::string part = std::to_string(*it);
    out.append(9 - part.size(), '0');
    out += part;
  }
  return out;
}

std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// An id without the spaces and NULs SMSCs pad it with.
std::string_view trimmed_id(std::string_view raw) {
  while (!raw.empty() && is_separator(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && is_separator(raw.back())) raw.remove_suffix(1);
  return raw;
}

std::string normalize_guessing(std::string_view id) {
  if (all_digits(id)) return strip_leading_zeros(id);
  if (all_hex(id)) return hex_to_decimal(id);
  return lower_copy(id);
}

}  // namespace

std::optional<MessageState> parse_stat(std::string_view text) {
  struct Name {
    std::string_view name;
    MessageState state;
  };
  static constexpr Name names[] = {
      {"DELIVRD", MessageState::delivered},     {"EXPIRED", MessageState::expired},
      {"DELETED", MessageState::deleted},       {"UNDELIV", MessageState::undeliverable},
      {"ACCEPTD", MessageState::accepted},      {"UNKNOWN", MessageState::unknown},
      {"REJECTD", MessageState::rejected},      {"ENROUTE", MessageState::enroute},
      {"DELIVERED", MessageState::delivered},   {"UNDELIVERABLE", MessageState::undeliverable},
      {"ACCEPTED", MessageState::accepted},     {"REJECTED", MessageState::rejected},
  };
  for (const auto& n : names)
    if (iequals(text, n.name)) return n.state;
  return std::nullopt;
}

std::string_view to_string(MessageState state) {
  switch (state) {
    case MessageState::enroute: return "ENROUTE";
    case MessageState::delivered: return "DELIVRD";
    case MessageState::expired: return "EXPIRED";
    case MessageState::deleted: return "DELETED";
    case MessageState::undeliverable: return "UNDELIV";
    case MessageState::accepted: return "ACCEPTD";
    case MessageState::unknown: return "UNKNOWN";
    case MessageState::rejected: return "REJECTD";
  }
  return "UNKNOWN";
}

std::optional<MessageState> message_state_from_octet(std::uint8_t value) {
  if (value < 1 || value > 8) return std::nullopt;
  return static_cast<MessageState>(value);
}

bool is_final(MessageState state) { return state != MessageState::enroute; }

bool is_delivery_receipt(std::uint8_t esm_class) {
  const std::uint8_t type = esm_class & esm::type_mask;
  return type == esm::smsc_receipt || type == esm::intermediate_notification;
}

bool parse_receipt_text(std::string_view text, DeliveryReceipt& out) {
  DeliveryReceipt r;
  if (!read_text_fields(text, r)) return false;
  out = std::move(r);
  return true;
}

std::optional<DeliveryReceipt> parse_delivery_receipt(const DeliverSm& pdu) {
  // message_payload is only allowed with an empty short_message.
  const std::span<const std::uint8_t> octets =
      pdu.short_message.empty() ? payload_of(pdu.tlvs)
                                : std::span<const std::uint8_t>(pdu.short_message);
  return receipt_from(octets, pdu.data_coding, pdu.tlvs);
}

std::optional<DeliveryReceipt> parse_delivery_receipt(const DataSm& pdu) {
  return receipt_from(payload_of(pdu.tlvs), pdu.data_coding, pdu.tlvs);
}

std::optional<std::chrono::sys_seconds> parse_receipt_date(std::string_view digits) {
  if ((digits.size() != 10 && digits.size() != 12) || !all_digits(digits)) return std::nullopt;
  auto two = [&digits](std::size_t at) {
    return static_cast<unsigned>((digits[at] - '0') * 10 + (digits[at + 1] - '0'));
  };
  const unsigned hour = two(6), minute = two(8), second = digits.size() == 12 ? two(10) : 0;
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{2000 + static_cast<int>(two(0))},
                                         std::chrono::month{two(2)}, std::chrono::day{two(4)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second};
}

std::string normalize_message_id(std::string_view raw, IdFormat format) {
  raw = trimmed_id(raw);
  if (raw.empty()) return {};
  switch (format) {
    case IdFormat::as_is: return std::string(raw);
    case IdFormat::decimal:
      if (all_digits(raw)) return strip_leading_zeros(raw);
      break;
    case IdFormat::hex:
      if (all_hex(raw)) return hex_to_decimal(raw);
      break;
    case IdFormat::automatic: return normalize_guessing(raw);
  }
  // Not a number in the configured base: an opaque id after all.
  return lower_copy(raw);
}

IdReadings read_message_id(std::string_view raw, IdFormat format) {
  IdReadings r{normalize_message_id(raw, format), {}};
  if (format != IdFormat::automatic) return r;
  const std::string_view id = trimmed_id(raw);
  if (all_digits(id)) {
    std::string hex = hex_to_decimal(id);
    if (hex != r.first) r.second = std::move(hex);
  }
  return r;
}

IdFormatLearner::IdFormatLearner(IdFormat configured)
    : format_(configured), learning_(configured == IdFormat::automatic) {}

bool IdFormatLearner::observe(std::string_view raw) {
  if (!learning_) return false;
  raw = trimmed_id(raw);
  if (raw.empty()) return false;
  if (!all_hex(raw)) format_ = IdFormat::as_is;
  else if (!all_digits(raw)) format_ = IdFormat::hex;
  else if (++digits_only_ >= kDecimalAfter) format_ = IdFormat::decimal;
  else return false;
  learning_ = false;
  return true;
}

std::string failure_details(const Tlvs& tlvs) {
  std::string out;
  auto add = [&out](std::string part) {
    if (!out.empty()) out += ", ";
    out += part;
  };
  if (auto reason = tlvs.u8(tag::delivery_failure_reason))
    add("delivery_failure_reason " + std::to_string(*reason));
  if (const Tlv* nec = tlvs.find(tag::network_error_code); nec && nec->value.size() == 3)
    // Network type, then a two-octet error code (SMPP 3.4 section 5.3.2.31).
    add(fmt::format("network_error_code {:02X}:{:02X}{:02X}", nec->value[0], nec->value[1],
                    nec->value[2]));
  if (auto text = tlvs.string(tag::additional_status_info_text)) {
    // Untrusted text bound for logs and reports: printable ASCII only.
    std::string clean;
    for (char c : text->substr(0, 80)) clean += (c >= 0x20 && c < 0x7F && c != '\'') ? c : '?';
    add("status_text '" + clean + "'");
  }
  return out;
}

std::string_view to_string(IdFormat format) {
  switch (format) {
    case IdFormat::automatic: return "auto";
    case IdFormat::decimal: return "decimal";
    case IdFormat::hex: return "hex";
    case IdFormat::as_is: return "as_is";
  }
  return "auto";
}

}  // namespace giftgate::smpp
