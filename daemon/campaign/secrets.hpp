// The few pieces of cryptography the API's keys and the website's sign-in
// share: SHA-256 digests to keep instead of secrets, random secrets from
// OpenSSL's generator, and a comparison of digests that takes the same time
// wherever they differ.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate {

using Digest = std::array<unsigned char, 32>;

// SHA-256 of `data`; nullopt only when OpenSSL cannot digest at all.
std::optional<Digest> sha256(std::string_view data);

// `bytes` random bytes (RAND_bytes) as base64url without padding (32 bytes:
// 43 characters); nullopt when the generator fails, never a weak secret.
std::optional<std::string> random_base64url(std::size_t bytes);

// `bytes` as base64url without padding (the alphabet random_base64url uses).
std::string to_base64url(std::span<const unsigned char> bytes);
// The bytes unpadded base64url `text` stands for; nullopt for a character
// outside the alphabet or a length no bytes encode to.
std::optional<std::vector<unsigned char>> from_base64url(std::string_view text);

// Whether `text` is `length` characters of the base64url alphabet.
bool is_base64url(std::string_view text, std::size_t length);

// A number of `digits` decimal digits (leading zeros kept), each value as
// likely as any other; nullopt when the generator fails.
std::optional<std::string> random_digits(int digits);

// Whether a stored digest equals `digest`, in a time that does not depend
// on where they differ (CRYPTO_memcmp). A stored value of another length
// never equals, and is compared against a digest of zeros all the same.
bool same_digest(const std::vector<unsigned char>& stored, const Digest& digest);

}  // namespace giftgate
