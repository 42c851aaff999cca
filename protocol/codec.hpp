// The wire codec: turns Pdu values into SMPP 3.4 octets and back. This is the
// only code that calls libsmpp34 or reads its global error variables.
//
// libsmpp34 packs and unpacks the mandatory fields and, where its tables can
// represent them, the optional parameters. The wrapper covers what the library
// does not: it checks every length before the library sees the octets, accepts
// what real SMSCs send but the library refuses (vendor command_status values,
// TON/NPI outside the specification's lists, sequence_number 0, an
// interface_version other than 0x34, error responses without a body), and
// handles optional parameters the library would misread or cannot hold (a
// fixed-size tag with another length, values over its 1024-octet limit, more
// than a few in one PDU, and TLVs in any PDU whose library frame has no list
// for them: submit_sm_resp, data_sm_resp, enquire_link and the like).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "protocol/pdu.hpp"

namespace giftgate::smpp {

// The 16-octet header every PDU starts with.
struct Header {
  std::uint32_t command_length = 0;
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
};

// Reads the header from the first 16 octets; false if fewer are given.
bool read_header(std::span<const std::uint8_t> octets, Header& out);

// Limits applied while decoding untrusted octets. The number of optional
// parameters is bounded by the PDU's length alone.
struct DecodeLimits {
  std::size_t max_pdu_length = 16384;  // command_length above this is refused
};

// Decodes one whole PDU (exactly command_length octets). On failure `out` is
// unspecified and, when given, `detail` says which field was wrong.
std::error_code decode(std::span<const std::uint8_t> octets, Pdu& out,
                       const DecodeLimits& limits = {}, std::string* detail = nullptr);

// Encodes a PDU, appending its octets to `out`. Field values longer than SMPP
// 3.4 allows are refused, never truncated.
std::error_code encode(const Pdu& pdu, std::vector<std::uint8_t>& out,
                       std::string* detail = nullptr);

// The command_status to send in a generic_nack (or error response) for a PDU
// that failed to decode with `ec`.
std::uint32_t nack_status_for(std::error_code ec);

// Counters kept by the wrapper, for tests and diagnostics.
struct CodecStats {
  // Longest text libsmpp34 has written to its 2048-octet error buffer; the
  // wrapper's limits keep it well below the buffer's size.
  std::size_t max_library_log = 0;
};
CodecStats codec_stats();

}  // namespace giftgate::smpp
