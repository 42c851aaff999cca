#include "tests/bench/loadgen/pacer.hpp"

#include <algorithm>

namespace giftgate::bench {
namespace {

using namespace std::chrono_literals;
constexpr auto kTick = 1ms;
constexpr int kMaxBurst = 2000;  // new MOs in one tick, at most

}  // namespace

Pacer::Pacer(boost::asio::io_context& io, Scenario& scenario, std::vector<Smsc*> smscs,
             double rate)
    : timer_(io), scenario_(scenario), smscs_(std::move(smscs)), rate_(rate) {}

void Pacer::start() {
  last_tick_ = Clock::now();
  tick();
}

void Pacer::set_rate(double rate) {
  rate_ = rate;
  credit_ = 0;
}

Smsc* Pacer::next_taker() {
  for (std::size_t k = 0; k < smscs_.size(); ++k) {
    Smsc* s = smscs_[(turn_ + k) % smscs_.size()];
    if (!s->can_take()) continue;
    turn_ = (turn_ + k + 1) % smscs_.size();
    return s;
  }
  return nullptr;
}

void Pacer::tick() {
  const auto now = Clock::now();
  const double dt = std::chrono::duration<double>(now - last_tick_).count();
  last_tick_ = now;
  // At most 50 ms of credit: a stall is not made up for by a burst.
  if (sending_ && rate_ > 0) credit_ = std::min(credit_ + rate_ * dt, std::max(1.0, rate_ * 0.05));
  for (Smsc* s : smscs_) s->pump();
  // The turn passes only with an MO given, so that the spread stays even
  // however the credit and the scenario cut a tick short.
  for (int burst = 0; sending_ && burst < kMaxBurst; ++burst) {
    if (rate_ > 0 && credit_ < 1) break;
    const std::size_t turn = turn_;
    Smsc* s = next_taker();
    if (!s) break;
    auto mo = scenario_.next();
    if (!mo) {
      turn_ = turn;
      break;
    }
    if (rate_ > 0) credit_ -= 1;
    s->send_new(std::move(*mo));
  }
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

}  // namespace giftgate::bench
