#include "protocol/net/link.hpp"

#include <atomic>

namespace giftgate::smpp {

namespace asio = boost::asio;

Link::Link(asio::any_io_executor executor, SessionSettings settings, Mode mode,
           log::Logger logger) {
  if (mode == Mode::transceiver) {
    settings.bind = BindKind::transceiver;
    transmitter_ = Session::create(executor, std::move(settings), logger);
    return;
  }
  SessionSettings rx = settings;
  settings.bind = BindKind::transmitter;
  rx.bind = BindKind::receiver;
  transmitter_ = Session::create(executor, std::move(settings), logger);
  receiver_ = Session::create(executor, std::move(rx), logger);
}

void Link::on_inbound(Session::InboundHandler handler) { receiver()->on_inbound(std::move(handler)); }

void Link::on_state(Session::StateHandler handler) {
  if (receiver_) receiver_->on_state(handler);
  transmitter_->on_state(std::move(handler));
}

void Link::start() {
  transmitter_->start();
  if (receiver_) receiver_->start();
}

void Link::submit(SubmitSm message, Session::SubmitHandler handler, SubmitPriority priority) {
  transmitter_->submit(std::move(message), std::move(handler), priority);
}

void Link::submit_all(std::vector<std::pair<SubmitSm, Session::SubmitHandler>> messages,
                      SubmitPriority priority) {
  transmitter_->submit_all(std::move(messages), priority);
}

void Link::set_rate(double rate, double burst) { transmitter_->set_rate(rate, burst); }

void Link::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  if (!receiver_) return transmitter_->stop(drain, std::move(done));
  auto remaining = std::make_shared<std::atomic<int>>(2);
  auto one_done = [remaining, done = std::move(done)] {
    if (--*remaining == 0 && done) done();
  };
  transmitter_->stop(drain, one_done);
  receiver_->stop(drain, one_done);
}

bool Link::bound() const {
  const bool tx = transmitter_->state() == SessionState::bound;
  return receiver_ ? tx && receiver_->state() == SessionState::bound : tx;
}

}  // namespace giftgate::smpp
