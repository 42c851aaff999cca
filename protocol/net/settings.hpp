// What a bind to an SMSC is configured with: address, TLS, credentials,
// timers, window and rate. Plain data without Asio, so the configuration
// layer can fill it in without pulling in the connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/pdu.hpp"

namespace giftgate::smpp {

struct TlsSettings {
  bool enabled = false;
  bool verify = true;         // verify the SMSC's certificate and host name
  std::string ca_file;        // PEM bundle; empty: the system's default paths
  std::string server_name;    // name to verify and send as SNI; empty: the host
  std::string cert_file;      // client certificate, if the SMSC asks for one
  std::string key_file;
};

struct SessionSettings {
  std::string name = "smsc";  // in every log line of this session
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  TlsSettings tls;

  BindKind bind = BindKind::transceiver;
  std::string system_id = "giftgate";
  std::string password;
  std::string system_type;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;

  std::chrono::milliseconds connect_timeout{10000};   // TCP connect and TLS handshake
  std::chrono::milliseconds bind_timeout{10000};
  std::chrono::milliseconds response_timeout{10000};  // per request
  std::chrono::milliseconds enquire_link_interval{30000};  // after this long idle
  std::chrono::milliseconds unbind_timeout{2000};
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{60000};
  double reconnect_jitter = 0.2;
  std::chrono::milliseconds throttle_pause{1000};      // first pause on ESME_RTHROTTLED
  std::chrono::milliseconds throttle_pause_max{30000};

  std::size_t window = 10;           // submits written and not yet answered
  double rate = 0;                   // submit_sm PDUs per second; 0: no limit
  double burst = 1;                  // tokens the rate limiter can save up
  std::size_t max_queue = 100000;    // submits waiting to be written
  // True: while not bound, submits are not kept for the next connection:
  // the queue is returned when the connection is lost, and submits offered
  // meanwhile are returned at once, so an owner with other binds sends
  // them there. False: they wait for the reconnect.
  bool return_queued_when_down = false;
  std::size_t max_inbound_pending = 64;  // unanswered MOs before reading pauses
  std::size_t max_pdu_length = 16384;
  std::uint32_t first_sequence = 1;  // tests start near the wrap
};

}  // namespace giftgate::smpp
