#include "daemon/campaign/secrets.hpp"

#include <cstdint>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace giftgate {

std::optional<Digest> sha256(std::string_view data) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up on
  // every digest (see mo_fingerprint), and a key is hashed on every request.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Digest digest{};
  unsigned int length = 0;
  if (!kSha256 || !EVP_Digest(data.data(), data.size(), digest.data(), &length, kSha256, nullptr) ||
      length != digest.size())
    return std::nullopt;
  return digest;
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

std::string to_base64url(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t bits = 0;
  int held = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out += kAlphabet[(bits >> held) & 0x3F];
    }
  }
  if (held > 0) out += kAlphabet[(bits << (6 - held)) & 0x3F];
  return out;
}

std::optional<std::vector<unsigned char>> from_base64url(std::string_view text) {
  // One character left over carries 6 bits, less than a byte: no bytes
  // encode to such a length.
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<unsigned char> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<unsigned char>((bits >> held) & 0xFF));
    }
  }
  return out;
}

std::optional<std::string> random_base64url(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (bytes == 0 || RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return std::nullopt;
  std::string out = to_base64url(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

bool is_base64url(std::string_view text, std::size_t length) {
  if (text.size() != length) return false;
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

std::optional<std::string> random_digits(int digits) {
  if (digits < 1 || digits > 9) return std::nullopt;
  std::uint32_t range = 1;
  for (int i = 0; i < digits; ++i) range *= 10;
  // A value at or past the last whole multiple of `range` below 2^32 is
  // drawn again: taking it modulo `range` would make the low numbers a
  // little likelier. For 6 digits that is 1 draw in 4,400, so 16 draws
  // all rejected means a broken generator.
  const std::uint32_t limit = static_cast<std::uint32_t>((std::uint64_t{1} << 32) / range * range);
  for (int attempt = 0; attempt < 16; ++attempt) {
    unsigned char raw[4];
    if (RAND_bytes(raw, sizeof raw) != 1) return std::nullopt;
    const std::uint32_t v = (std::uint32_t{raw[0]} << 24) | (std::uint32_t{raw[1]} << 16) |
                            (std::uint32_t{raw[2]} << 8) | std::uint32_t{raw[3]};
    OPENSSL_cleanse(raw, sizeof raw);
    if (v < limit) return fmt::format("{:0{}}", v % range, digits);
  }
  return std::nullopt;
}

bool same_digest(const std::vector<unsigned char>& stored, const Digest& digest) {
  static const Digest kZeros{};
  const bool right_length = stored.size() == digest.size();
  const unsigned char* compared = right_length ? stored.data() : kZeros.data();
  return CRYPTO_memcmp(compared, digest.data(), digest.size()) == 0 && right_length;
}

}  // namespace giftgate
