// The load generator's SMSC: accepts binds on 127.0.0.1, writes the MOs the
// Pacer hands it (rotating over its bound receivers), answers submit_sm,
// sends a receipt for each through any of its receivers, and redelivers
// what was not acknowledged, as an SMSC does. Faults are switched on by
// commands (drop, silent, refuse, throttle, msgqful, lose_resp, malformed,
// garbled). A run may hold several: each keeps its own MOs, counters and
// message ids, all starting at the same value, as two SMSC nodes would.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "protocol/reassembly.hpp"
#include "tests/bench/loadgen/scenario.hpp"
#include "tests/bench/loadgen/wire.hpp"

namespace giftgate::bench {

class Smsc {
 public:
  struct Options {
    std::uint16_t port = 0;
    int number = 1;                 // of the run's SMSCs, from 1: names it in events and the report
    std::size_t max_unacked = 200;  // MOs written and not yet answered
    std::chrono::milliseconds redeliver_after{1000};
  };

  Smsc(boost::asio::io_context& io, Options options, Scenario& scenario);

  std::uint16_t port() const;
  int number() const { return options_.number; }
  void start();

  // What it owes, every tick of the Pacer: receipts and redeliveries (none
  // while silent or without a receiver).
  void pump();
  // Whether a new MO can be written now: a receiver bound, not silent, and
  // fewer than max_unacked MOs unanswered.
  bool can_take() const;
  // Writes a new MO (every part) on the next receiver; only when can_take().
  void send_new(Mo mo);

  // Controls.
  void drop_all();                   // close every connection without unbind
  void silent_for(std::chrono::milliseconds d);
  void refuse_binds_for(std::chrono::milliseconds d);
  void throttle_for(std::chrono::milliseconds d);
  void msgqful(int n) { msgqful_left_ += n; }
  void lose_responses(int n) { lose_left_ += n; }
  int malformed(int n);              // PDUs written
  void garbled(int n);
  // N balance asks from the flooding member, written at once.
  void flood(int n);
  // From now, latency samples and rate are counted (after a warm-up).
  void start_measuring();

  struct Counters {
    std::uint64_t binds = 0, binds_refused = 0, closes = 0;
    std::uint64_t mo_sent = 0, mo_acked = 0, pdus_nacked = 0, redeliveries = 0;
    std::uint64_t submits = 0, submits_refused = 0, responses_lost = 0, in_doubt = 0;
    std::uint64_t receipts_sent = 0, receipts_acked = 0, receipts_nacked = 0;
    std::uint64_t receipts_other_bind = 0;  // sent on another connection than their submit came
    std::uint64_t generic_nacks = 0, malformed_sent = 0;
    std::uint64_t measured_acks = 0;
    Counters& operator+=(const Counters& o);
  };
  // One bind as the daemon numbers it, as far as the SMSC can tell: the
  // lowest number not held by another open connection of the same kind, so
  // that a connection opened again after a drop counts for the bind it
  // replaces. Whether the spread over the binds is even is read from these.
  struct BindCounters {
    std::string kind;  // transceiver, transmitter or receiver
    int number = 0;
    std::uint64_t connections = 0;  // bound under this number in turn
    std::uint64_t submits = 0, receipts_sent = 0, mo_pdus = 0, in_doubt = 0;
  };
  const Counters& counters() const { return counters_; }
  // By kind and number.
  const std::map<std::pair<std::string, int>, BindCounters>& binds() const { return binds_; }
  const std::vector<Mo>& mos() const { return mos_; }
  std::size_t unacked() const { return unacked_parts_; }
  std::size_t receipts_pending() const { return receipts_.size() + receipts_in_flight_; }
  bool any_bound() const;
  Clock::time_point measure_start() const { return measure_start_; }

 private:
  // A delivery receipt owed: the message's id and its recipient, whom a
  // receipt names as its source, as SMSCs do.
  struct Receipt {
    std::string id;
    std::string recipient;
  };
  struct Pending {
    enum class What { mo_part, receipt } what;
    std::size_t mo_index = 0;
    std::size_t part = 0;
    Receipt receipt;
    Clock::time_point written{};
  };
  struct ConnState {
    std::shared_ptr<Wire> wire;
    std::unordered_map<std::uint32_t, Pending> pending;
    bool unbound = false;           // ended by unbind: nothing in doubt
    BindCounters* bind = nullptr;   // once bound
  };

  void accept();
  void on_pdu(Wire& w, const smpp::Pdu& pdu, std::error_code ec, const smpp::Header& header);
  void on_close(Wire& w);
  void on_submit(ConnState& c, const smpp::Pdu& pdu);
  void on_answer(ConnState& c, const smpp::Pdu& pdu);
  void write_part(ConnState& c, std::size_t mo_index, std::size_t part);
  void send_receipt(ConnState& c, const Receipt& receipt);
  // The next bound receiver (or transceiver) after connection `after`
  // (wrapping round); null if none.
  ConnState* receiver_after(std::uint64_t after);
  // MOs rotate over the binds; a receipt goes to the bind after the one its
  // submit came on (another bind, when there are several: the daemon must
  // match it there), or rotates when it waited for a bind.
  ConnState* receiver();
  ConnState* receipt_receiver();
  bool has_receiver() const;
  BindCounters& bind_counters(std::uint64_t conn, std::string kind);

  boost::asio::io_context& io_;
  Options options_;
  Scenario& scenario_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::uint64_t, ConnState> conns_;
  std::uint64_t next_conn_ = 1;
  std::uint64_t last_mo_conn_ = 0, last_receipt_conn_ = 0;  // receiver() gave last
  std::map<std::pair<std::string, int>, BindCounters> binds_;
  std::vector<Mo> mos_;
  struct Redelivery {
    std::size_t mo_index, part;
    Clock::time_point due;
  };
  std::deque<Redelivery> redeliver_;
  std::deque<Receipt> receipts_;  // to send (again)
  std::size_t receipts_in_flight_ = 0;
  std::size_t unacked_parts_ = 0;
  Clock::time_point silent_until_{}, refuse_until_{}, throttle_until_{};
  bool silent_ = false;
  int msgqful_left_ = 0, lose_left_ = 0;
  std::uint64_t next_message_id_ = 1000000;
  bool measuring_ = false;
  Clock::time_point measure_start_{};
  smpp::Reassembler reassembler_{smpp::Reassembler::Limits{std::chrono::seconds(60), 64u << 20}};
  std::unordered_map<std::string, Clock::time_point> first_part_at_;
  Counters counters_;
};

}  // namespace giftgate::bench
