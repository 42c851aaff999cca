#include "protocol/split.hpp"

#include "protocol/error.hpp"
#include "protocol/gsm7.hpp"
#include "protocol/utf8.hpp"

namespace giftgate::smpp {
namespace {

// The text as indivisible units: a character's septets (one, or an escape
// pair) or UTF-16 code units (one, or a surrogate pair), each with its size.
struct Units {
  Encoding encoding;
  std::u32string chars;
  std::vector<std::size_t> sizes;  // septets or UTF-16 units per character
  std::size_t total = 0;
};

bool units_of(std::string_view utf8, const SplitOptions& options, Units& out) {
  if (!utf8::decode(utf8, out.chars)) return false;
  out.encoding = choose_encoding(utf8, options.alphabet);
  for (char32_t c : out.chars) {
    std::size_t n = 0;
    if (out.encoding.charset == Charset::ucs2)
      n = (c >= 0x10000 && options.surrogates == SurrogatePolicy::keep_pairs) ? 2 : 1;
    else
      n = gsm7_septets(c);
    out.sizes.push_back(n);
    out.total += n;
  }
  return true;
}

// Cuts the characters into runs of at most `room` units; returns [begin, end)
// character ranges.
std::vector<std::pair<std::size_t, std::size_t>> cut(const Units& u, std::size_t single,
                                                     std::size_t room) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  if (u.total <= single) {
    ranges.emplace_back(0, u.chars.size());
    return ranges;
  }
  std::size_t begin = 0, used = 0;
  for (std::size_t i = 0; i < u.chars.size(); ++i) {
    if (used + u.sizes[i] > room) {
      ranges.emplace_back(begin, i);
      begin = i;
      used = 0;
    }
    used += u.sizes[i];
  }
  ranges.emplace_back(begin, u.chars.size());
  return ranges;
}

// The octets of characters [begin, end) in the chosen encoding; `fill_bits`
// aligns packed septets after a UDH.
std::vector<std::uint8_t> encode_range(const Units& u, const SplitOptions& options,
                                       std::size_t begin, std::size_t end, unsigned fill_bits) {
  std::string text;
  for (std::size_t i = begin; i < end; ++i) utf8::append(text, u.chars[i]);
  std::vector<std::uint8_t> octets;
  switch (u.encoding.charset) {
    case Charset::ucs2: ucs2_encode(text, options.surrogates, octets); break;
    case Charset::ascii: ascii_encode(text, octets); break;
    case Charset::latin1: latin1_encode(text, octets); break;
    default:
      gsm7_encode(text, octets);
      if (options.alphabet == DefaultAlphabet::gsm7_packed) octets = gsm7_pack(octets, fill_bits);
      break;
  }
  return octets;
}

}  // namespace

std::size_t count_parts(std::string_view utf8, const SplitOptions& options) {
  Units u;
  if (!units_of(utf8, options, u)) return 0;
  if (options.mode == LongMessageMode::payload) return 1;
  const bool ucs2 = u.encoding.charset == Charset::ucs2;
  return cut(u, ucs2 ? ucs2_single : gsm7_single, ucs2 ? ucs2_part : gsm7_part).size();
}

std::error_code split(std::string_view utf8, const SplitOptions& options,
                      std::vector<MessagePart>& out) {
  out.clear();
  Units u;
  if (!units_of(utf8, options, u)) return make_error_code(errc::invalid_text);
  const std::uint8_t data_coding = u.encoding.data_coding;

  if (options.mode == LongMessageMode::payload) {
    MessagePart part;
    part.data_coding = data_coding;
    part.tlvs.add(Tlv{tag::message_payload, encode_range(u, options, 0, u.chars.size(), 0)});
    out.push_back(std::move(part));
    return {};
  }

  const bool ucs2 = u.encoding.charset == Charset::ucs2;
  const auto ranges = cut(u, ucs2 ? ucs2_single : gsm7_single, ucs2 ? ucs2_part : gsm7_part);
  if (ranges.size() > options.max_parts || ranges.size() > 255)
    return make_error_code(errc::too_many_parts);
  const auto total = static_cast<unsigned>(ranges.size());
  for (unsigned i = 0; i < total; ++i) {
    MessagePart part;
    part.data_coding = data_coding;
    part.index = i + 1;
    part.total = total;
    const auto [begin, end] = ranges[i];
    if (total == 1) {
      part.short_message = encode_range(u, options, begin, end, 0);
    } else if (options.mode == LongMessageMode::udh8) {
      part.esm_class = esm::udhi;
      part.short_message = {0x05, 0x00, 0x03, static_cast<std::uint8_t>(options.reference),
                            static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(i + 1)};
      // Six octets of UDH are 48 bits: one fill bit reaches the septet boundary.
      const auto body = encode_range(u, options, begin, end, 1);
      part.short_message.insert(part.short_message.end(), body.begin(), body.end());
    } else {
      part.short_message = encode_range(u, options, begin, end, 0);
      part.tlvs.add(Tlv::u16(tag::sar_msg_ref_num, options.reference));
      part.tlvs.add(Tlv::u8(tag::sar_total_segments, static_cast<std::uint8_t>(total)));
      part.tlvs.add(Tlv::u8(tag::sar_segment_seqnum, static_cast<std::uint8_t>(i + 1)));
    }
    out.push_back(std::move(part));
  }
  return {};
}

}  // namespace giftgate::smpp
