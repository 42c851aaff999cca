#include "protocol/framer.hpp"

#include <algorithm>

namespace giftgate::smpp {

Framer::Framer(std::size_t max_pdu_length, std::size_t max_skip)
    : max_(std::max<std::size_t>(max_pdu_length, 16)), max_skip_(std::max(max_skip, max_)) {}

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
  if (skip_ > 0) {
    const std::size_t n = std::min(skip_, end_ - begin_);
    begin_ += n;
    skip_ -= n;
    if (begin_ == end_) begin_ = end_ = 0;
    if (skip_ > 0) return Status::need_more;
  }
  if (end_ - begin_ < 4) return Status::need_more;
  const std::uint8_t* p = buffer_.data() + begin_;
  const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                               (std::uint32_t{p[2]} << 8) | p[3];
  // Checked before waiting for (and so buffering) the rest of the PDU.
  if (length < 16 || length > max_skip_) {
    failed_ = true;
    bad_length_ = length;
    return Status::bad_length;
  }
  if (length > max_) {
    if (end_ - begin_ < 16) return Status::need_more;  // the header, to answer it
    bad_length_ = length;
    frame = {p, 16};
    begin_ += 16;
    skip_ = length - 16;  // dropped from the next call on, after `frame` is used
    return Status::oversized;
  }
  if (end_ - begin_ < length) return Status::need_more;
  frame = {p, length};
  begin_ += length;
  if (begin_ == end_) begin_ = end_ = 0;  // the frame's octets stay until the next feed
  return Status::ready;
}

}  // namespace giftgate::smpp
