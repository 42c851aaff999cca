// Hex strings for test vectors: spaces are ignored so a vector can be laid out
// field by field.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate::test {

inline std::vector<std::uint8_t> from_hex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\n') continue;
    const int v = nibble(c);
    if (v < 0) throw std::invalid_argument("bad hex digit in test vector");
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("odd number of hex digits in test vector");
  return out;
}

inline std::string to_hex(std::span<const std::uint8_t> octets) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (auto o : octets) {
    out.push_back(digits[o >> 4]);
    out.push_back(digits[o & 15]);
  }
  return out;
}

}  // namespace giftgate::test
