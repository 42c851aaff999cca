#include "tests/bench/loadgen/wire.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace giftgate::bench {

Wire::Wire(boost::asio::ip::tcp::socket socket, std::uint64_t id)
    : socket_(std::move(socket)), id_(id) {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
}

void Wire::start(OnPdu on_pdu, OnClose on_close) {
  on_pdu_ = std::move(on_pdu);
  on_close_ = std::move(on_close);
  read();
}

void Wire::close() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (on_close_) {
    auto callback = std::move(on_close_);
    on_close_ = nullptr;
    callback(*this);
  }
}

void Wire::set_silent(bool silent) {
  silent_ = silent;
  if (!silent_ && open_) {
    boost::asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_frames(); });
  }
}

void Wire::read() {
  if (!open_ || reading_ || silent_) return;
  reading_ = true;
  auto space = framer_.prepare(65536);
  socket_.async_read_some(boost::asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->reading_ = false;
                            if (ec) return self->close();
                            self->framer_.commit(n);
                            self->on_frames();
                          });
}

void Wire::on_frames() {
  std::span<const std::uint8_t> frame;
  while (open_ && !silent_) {
    const auto status = framer_.next(frame);
    if (status == smpp::Framer::Status::need_more) break;
    if (status == smpp::Framer::Status::bad_length) return close();
    smpp::Header header;
    smpp::read_header(frame, header);
    smpp::Pdu pdu;
    smpp::DecodeLimits limits;
    limits.max_pdu_length = 1 << 20;
    const auto ec = smpp::decode(frame, pdu, limits);
    on_pdu_(*this, pdu, ec, header);
  }
  read();
}

void Wire::send(const smpp::Pdu& pdu) {
  if (!open_) return;
  if (const auto ec = smpp::encode(pdu, queued_)) return;  // the generator's own bug: dropped
  write();
}

void Wire::send_raw(std::span<const std::uint8_t> octets) {
  if (!open_) return;
  queued_.insert(queued_.end(), octets.begin(), octets.end());
  write();
}

void Wire::write() {
  if (write_posted_ || writing_now_ || queued_.empty()) return;
  // Everything queued until the current handler returns goes in one write.
  write_posted_ = true;
  boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->write_posted_ = false;
    if (!self->open_ || self->queued_.empty()) return;
    self->writing_.swap(self->queued_);
    self->queued_.clear();
    self->writing_now_ = true;
    boost::asio::async_write(self->socket_, boost::asio::buffer(self->writing_),
                             [self](boost::system::error_code ec, std::size_t) {
                               self->writing_now_ = false;
                               self->writing_.clear();
                               if (ec) return self->close();
                               self->write();
                             });
  });
}

}  // namespace giftgate::bench
