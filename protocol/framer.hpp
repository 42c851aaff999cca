// Cuts a TCP byte stream into whole SMPP PDUs. It never touches a socket: it
// is fed octets in chunks of any size (one at a time works) and says whether a
// whole PDU is ready, more octets are needed, or the stream is unusable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace giftgate::smpp {

class Framer {
 public:
  enum class Status {
    need_more,   // no whole PDU buffered yet
    ready,       // `frame` holds one whole PDU
    // command_length above the maximum but not above the skip limit: `frame`
    // holds the PDU's 16-octet header (to answer it), and the rest of the
    // PDU is read past and dropped as it arrives, never buffered.
    oversized,
    bad_length,  // command_length below 16 or above the skip limit: close the stream
  };

  // `max_pdu_length` bounds command_length; nothing larger is ever buffered.
  // A PDU up to `max_skip` long is skipped (oversized); beyond that a length
  // is taken for a broken stream rather than waited for.
  explicit Framer(std::size_t max_pdu_length = 16384, std::size_t max_skip = kMaxSkip);
  static constexpr std::size_t kMaxSkip = 1u << 20;

  // Appends received octets.
  void feed(std::span<const std::uint8_t> octets);

  // Space for a read straight into the buffer, then how much was read.
  std::span<std::uint8_t> prepare(std::size_t size);
  void commit(std::size_t size);

  // The next whole PDU, valid until the next call to feed, prepare or next.
  // bad_length is sticky: the stream cannot be resynchronised.
  Status next(std::span<const std::uint8_t>& frame);

  // The offending command_length after bad_length or oversized.
  std::uint32_t bad_command_length() const { return bad_length_; }
  // Octets buffered and not yet returned.
  std::size_t buffered() const { return end_ - begin_; }
  std::size_t max_pdu_length() const { return max_; }

 private:
  void compact();

  std::size_t max_;
  std::size_t max_skip_;
  std::size_t skip_ = 0;  // octets of an oversized PDU still to drop
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;  // first octet not yet returned
  std::size_t end_ = 0;    // one past the last octet received
  bool failed_ = false;
  std::uint32_t bad_length_ = 0;
};

}  // namespace giftgate::smpp
