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
    bad_length,  // command_length below 16 or above the maximum: close the stream
  };

  // `max_pdu_length` bounds command_length; nothing larger is ever buffered.
  explicit Framer(std::size_t max_pdu_length = 16384);

  // Appends received octets.
  void feed(std::span<const std::uint8_t> octets);

  // Space for a read straight into the buffer, then how much was read.
  std::span<std::uint8_t> prepare(std::size_t size);
  void commit(std::size_t size);

  // The next whole PDU, valid until the next call to feed, prepare or next.
  // bad_length is sticky: the stream cannot be resynchronised.
  Status next(std::span<const std::uint8_t>& frame);

  // The offending command_length after bad_length.
  std::uint32_t bad_command_length() const { return bad_length_; }
  // Octets buffered and not yet returned.
  std::size_t buffered() const { return end_ - begin_; }
  std::size_t max_pdu_length() const { return max_; }

 private:
  void compact();

  std::size_t max_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;  // first octet not yet returned
  std::size_t end_ = 0;    // one past the last octet received
  bool failed_ = false;
  std::uint32_t bad_length_ = 0;
};

}  // namespace giftgate::smpp
