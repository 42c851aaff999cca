// One SMPP link to an SMSC: a transceiver bind, or a transmitter plus a
// receiver, behind one interface, so the gateway need not care which.
//
// Contract: submits go to the transmitter and keep the Session's contract
// (each ends in exactly one outcome); inbound messages come from the
// receiver (the transceiver when there is only one bind); state changes of
// every bind reach the one state handler; `stop` calls `done` once, after
// every bind has closed. bound() holds only while every bind is bound.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "protocol/log.hpp"
#include "protocol/net/session.hpp"
#include "protocol/net/settings.hpp"

namespace giftgate::smpp {

// A transceiver bind, or a transmitter plus a receiver, behind one interface.
class Link {
 public:
  enum class Mode { transceiver, transmitter_and_receiver };

  Link(boost::asio::any_io_executor executor, SessionSettings settings, Mode mode,
       log::Logger logger);

  void on_inbound(Session::InboundHandler handler);
  void on_state(Session::StateHandler handler);
  void start();
  // One submit to the transmitter (Session::submit).
  void submit(SubmitSm message, Session::SubmitHandler handler,
              SubmitPriority priority = SubmitPriority::urgent);
  // Several submits of one priority, in order, in one hand-over to the
  // transmitter.
  void submit_all(std::vector<std::pair<SubmitSm, Session::SubmitHandler>> messages,
                  SubmitPriority priority = SubmitPriority::urgent);
  // The transmitter's submit rate and burst from now on (Session::set_rate).
  void set_rate(double rate, double burst);
  // `done` runs when every session has closed.
  void stop(std::chrono::milliseconds drain, std::function<void()> done = {});

  // True when the link can send and receive.
  bool bound() const;
  std::shared_ptr<Session> transmitter() const { return transmitter_; }
  std::shared_ptr<Session> receiver() const { return receiver_ ? receiver_ : transmitter_; }

 private:
  std::shared_ptr<Session> transmitter_;
  std::shared_ptr<Session> receiver_;  // null for a transceiver
};

}  // namespace giftgate::smpp
