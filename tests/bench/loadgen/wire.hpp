// One SMPP connection for the load generator: whole PDUs in (through the
// project's framer and codec), PDUs out in batches (everything queued while
// a handler runs goes out in one write). Either end: the generator's SMSC
// side and its trivial ESME sink both use it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "protocol/codec.hpp"
#include "protocol/framer.hpp"

namespace giftgate::bench {

class Wire : public std::enable_shared_from_this<Wire> {
 public:
  // A decoded PDU, or a decode error with the raw header read.
  using OnPdu = std::function<void(Wire&, const smpp::Pdu&, std::error_code, const smpp::Header&)>;
  using OnClose = std::function<void(Wire&)>;

  Wire(boost::asio::ip::tcp::socket socket, std::uint64_t id);

  void start(OnPdu on_pdu, OnClose on_close);
  void send(const smpp::Pdu& pdu);
  void send_raw(std::span<const std::uint8_t> octets);
  // Closes at once (no unbind): what a crash or a cable pull looks like.
  void close();
  // Stops reading (and so answering) until resumed: a silent peer.
  void set_silent(bool silent);

  std::uint32_t next_sequence() { return sequence_ = sequence_ >= 0x7FFFFFFF ? 1 : sequence_ + 1; }
  std::uint64_t id() const { return id_; }
  bool is_open() const { return open_; }

  bool bound = false;
  bool receives = false;  // receiver or transceiver: MOs and receipts go here

 private:
  void read();
  void write();
  void on_frames();

  boost::asio::ip::tcp::socket socket_;
  std::uint64_t id_;
  smpp::Framer framer_{1 << 20};
  std::vector<std::uint8_t> queued_, writing_;
  bool write_posted_ = false, writing_now_ = false, reading_ = false;
  bool silent_ = false, open_ = true;
  std::uint32_t sequence_ = 0;
  OnPdu on_pdu_;
  OnClose on_close_;
};

}  // namespace giftgate::bench
