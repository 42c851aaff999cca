// The mandatory fields of every PDU the gateway handles, declared once, and a
// walker that checks untrusted octets against them before libsmpp34 sees
// them. The same table records how libsmpp34 reads each optional parameter,
// so the codec knows which ones the library would misread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

namespace giftgate::smpp::layout {

// What a mandatory field is; TON, NPI and interface_version are singled out
// because libsmpp34 refuses values outside the specification's lists.
enum class Kind : std::uint8_t { u8, ton, npi, version, c_string, sm_length, short_message };

struct Field {
  Kind kind;
  std::uint16_t max;  // C-octet strings: size including the NUL; short_message: octets
  std::string_view name;
};

// How libsmpp34 decodes an optional parameter in one PDU type: as an integer
// of a fixed width (whatever the length octets say), or as octets up to a
// maximum.
struct LibraryTlvForm {
  bool known = false;          // false: the library refuses the tag outright
  std::uint8_t width = 0;      // 1, 2 or 4 for integers; 0 for octets
  std::uint16_t max_octets = 0;
};

// Whether libsmpp34 would read a TLV of this tag and value length correctly
// inside the given command (a known tag, and a length its form agrees with).
bool library_reads_tlv(std::uint32_t command_id, std::uint16_t tag, std::size_t length);

// Per command: its fields, and whether libsmpp34 parses optional parameters
// for this command. Optional parameters may follow the fields of every
// command: SMPP 3.4 allows them in few, but SMSCs add them to responses
// (additional_status_info_text, vendor tags) and a receiver ignores those it
// does not know (section 3.2.1).
struct Command {
  std::uint32_t id;
  std::span<const Field> fields;
  bool library_parses_tlvs;
};

// The table entry for a command_id, or nullptr for commands the gateway does
// not handle.
const Command* find_command(std::uint32_t command_id);

// libsmpp34's reading of `tag` inside the given command.
LibraryTlvForm library_tlv_form(std::uint32_t command_id, std::uint16_t tag);

// Whether libsmpp34 would accept this TON / NPI value in an address.
bool library_accepts_ton(std::uint8_t ton);
bool library_accepts_npi(std::uint8_t npi);

// The most fields any command has.
inline constexpr std::size_t max_fields = 18;

// Where each piece of a PDU lies inside its octets.
struct Walk {
  struct Span {
    std::size_t offset = 0;
    std::size_t length = 0;  // C-octet strings: without the NUL
  };
  struct TlvSpan {
    std::uint16_t tag = 0;
    std::size_t header_offset = 0;
    std::size_t value_offset = 0;
    std::size_t length = 0;
  };
  const Command* command = nullptr;
  std::array<Span, max_fields> fields{};
  std::size_t field_count = 0;
  std::size_t body_end = 16;  // first octet after the mandatory fields
  // As many as the PDU holds: their number is bounded by its length alone.
  std::vector<TlvSpan> tlvs;
  bool header_only = false;  // an error response sent without its body
};

// Walks a whole PDU (octets.size() == command_length, already checked) and
// fills `out`. A response with a non-zero status may stop after the header.
std::error_code walk(std::span<const std::uint8_t> octets, Walk& out,
                     std::string_view* bad_field = nullptr);

}  // namespace giftgate::smpp::layout
