// The run's new MOs, from one scenario at one rate, handed to its SMSCs in
// turn. Each tick (1 ms) lets every SMSC send what it owes (receipts,
// redeliveries), then gives new MOs to the SMSCs that can take them (a
// receiver bound, not silent, their unanswered MOs under the limit), one
// each in turn: the rate is the whole run's, spread evenly while every SMSC
// is up, and carried by the others while one is down, as members' phones
// would move to the node still answering. With one SMSC it paces exactly as
// that SMSC did on its own.
#pragma once

#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tests/bench/loadgen/scenario.hpp"
#include "tests/bench/loadgen/smsc.hpp"

namespace giftgate::bench {

class Pacer {
 public:
  // rate: new MOs per second over every SMSC; 0: as fast as they are answered.
  Pacer(boost::asio::io_context& io, Scenario& scenario, std::vector<Smsc*> smscs, double rate);

  void start();
  void set_rate(double rate);
  // New MOs on or off (receipts and redeliveries go on regardless).
  void set_sending(bool on) { sending_ = on; }

 private:
  void tick();
  // The next SMSC after the one served last that can take a new MO; null if none.
  Smsc* next_taker();

  boost::asio::steady_timer timer_;
  Scenario& scenario_;
  std::vector<Smsc*> smscs_;
  double rate_;
  double credit_ = 0;
  bool sending_ = true;
  std::size_t turn_ = 0;
  Clock::time_point last_tick_{};
};

}  // namespace giftgate::bench
