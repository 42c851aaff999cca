// Splitting outgoing text into short messages: one part when it fits, else
// concatenated parts marked by an 8-bit-reference UDH or by SAR parameters,
// or the whole text in one message_payload, as configured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

#include "protocol/charset.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::smpp {

enum class LongMessageMode {
  udh8,     // user data header, IEI 0x00 (TS 23.040 9.2.3.24.1)
  sar,      // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs
  payload,  // one submit_sm with message_payload; the SMSC splits it
};

struct SplitOptions {
  LongMessageMode mode = LongMessageMode::udh8;
  DefaultAlphabet alphabet = DefaultAlphabet::gsm7_unpacked;
  SurrogatePolicy surrogates = SurrogatePolicy::keep_pairs;
  std::size_t max_parts = 10;
  std::uint16_t reference = 0;  // concatenation reference (udh8 uses its low octet)
};

// What one submit_sm carries for one part.
struct MessagePart {
  std::uint8_t data_coding = 0;
  std::uint8_t esm_class = 0;
  std::vector<std::uint8_t> short_message;
  Tlvs tlvs;
  unsigned index = 1;  // 1-based
  unsigned total = 1;
};

// Characters per message: one part, or one part of several (room left for the
// UDH; SAR parts keep the same room because SMSCs add a UDH when they deliver
// them to the handset).
inline constexpr std::size_t gsm7_single = 160, gsm7_part = 153;
inline constexpr std::size_t ucs2_single = 70, ucs2_part = 67;

// Splits UTF-8 text. The encoding is GSM 7-bit when every character fits the
// alphabet, else UCS-2. No part ends between an escape and its character, or
// between the halves of a surrogate pair. Errors: invalid_text (not UTF-8),
// too_many_parts (more than max_parts).
std::error_code split(std::string_view utf8, const SplitOptions& options,
                      std::vector<MessagePart>& out);

// How many parts split() would make (0 for invalid text); ignores max_parts.
std::size_t count_parts(std::string_view utf8, const SplitOptions& options);

}  // namespace giftgate::smpp
