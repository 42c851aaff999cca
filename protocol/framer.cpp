#include "protocol/framer.hpp"

#include <algorithm>

namespace giftgate::smpp {

Framer::Framer(std::size_t max_pdu_length) : max_(std::max<std::size_t>(max_pdu_length, 16)) {}

void Framer::compact() {
  if (begin_ == 0) return;
  std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(begin_),
            buffer_.begin() + static_cast<std::ptrdiff_t>(end_), buffer_.begin());
  end_ -= begin_;
  begin_ = 0;
}

std::span<std::uint8_t> Framer::prepare(std::size_t size) {
  compact();
  if (buffer_.size() < end_ + size) buffer_.resize(end_ + size);
  return {buffer_.data() + end_, size};
}

void Framer::commit(std::size_t size) { end_ += std::min(size, buffer_.size() - end_); }

void Framer::feed(std::span<const std::uint8_t> octets) {
  auto space = prepare(octets.size());
  std::copy(octets.begin(), octets.end(), space.begin());
  commit(octets.size());
}

Framer::Status Framer::next(std::span<const std::uint8_t>& frame) {
  if (failed_) return Status::bad_length;
  if (end_ - begin_ < 4) return Status::need_more;
  const std::uint8_t* p = buffer_.data() + begin_;
  const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                               (std::uint32_t{p[2]} << 8) | p[3];
  // Checked before waiting for (and so buffering) the rest of the PDU.
  if (length < 16 || length > max_) {
    failed_ = true;
    bad_length_ = length;
    return Status::bad_length;
  }
  if (end_ - begin_ < length) return Status::need_more;
  frame = {p, length};
  begin_ += length;
  if (begin_ == end_) begin_ = end_ = 0;  // the frame's octets stay until the next feed
  return Status::ready;
}

}  // namespace giftgate::smpp
