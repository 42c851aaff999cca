// libFuzzer target: untrusted octets through the framer and the decoder, as
// the session receives them. Whatever decodes must encode again and decode to
// the same value, so the codec never accepts what it cannot reproduce.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocol/codec.hpp"
#include "protocol/framer.hpp"

using namespace giftgate::smpp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first octet picks the chunk size, so framing is fuzzed as well.
  const std::size_t chunk = 1 + data[0] % 64;
  ++data;
  --size;

  Framer framer(4096, 8192);  // longer PDUs, up to 8 KiB, are skipped
  for (std::size_t at = 0; at < size; at += chunk) {
    framer.feed({data + at, std::min(chunk, size - at)});
    std::span<const std::uint8_t> frame;
    for (;;) {
      const auto status = framer.next(frame);
      if (status == Framer::Status::oversized) continue;  // its header only: dropped
      if (status != Framer::Status::ready) {
        if (status == Framer::Status::bad_length) return 0;
        break;
      }
      Pdu pdu;
      if (decode(frame, pdu)) continue;
      (void)nack_status_for({});
      std::vector<std::uint8_t> again;
      if (encode(pdu, again)) continue;  // e.g. a 254-octet short_message
      Pdu back;
      if (decode(again, back) || !(back == pdu)) std::abort();
    }
  }
  return 0;
}
