// Runs a Session against the SMSC simulator: an io_context on its own thread,
// outcomes and inbound messages collected under a lock, and bounded waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include "protocol/net/link.hpp"
#include "protocol/net/session.hpp"
#include "protocol/split.hpp"
#include "tests/support/sim_process.hpp"

namespace giftgate::test {

using namespace std::chrono_literals;

// Polls `done` until it holds or `timeout` passes; every wait in these tests
// is bounded.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class SessionHarness {
 public:
  explicit SessionHarness(const SimOptions& options = {})
      : sim(options), work(boost::asio::make_work_guard(io)), thread([this] { io.run(); }) {}

  ~SessionHarness() {
    stop_all();
    work.reset();
    io.stop();
    thread.join();
  }

  smpp::SessionSettings settings(smpp::BindKind bind = smpp::BindKind::transceiver) const {
    smpp::SessionSettings s;
    s.name = "sim";
    s.host = "127.0.0.1";
    s.port = sim.port();
    s.bind = bind;
    s.system_id = "giftgate";
    s.password = "secret";
    s.reconnect_min = 50ms;
    s.reconnect_max = 400ms;
    s.response_timeout = 3s;
    s.connect_timeout = 3s;
    s.bind_timeout = 3s;
    return s;
  }

  std::shared_ptr<smpp::Session> session(smpp::SessionSettings s) {
    auto session = smpp::Session::create(io.get_executor(), std::move(s), logger);
    session->on_inbound([this](const smpp::Pdu& pdu, smpp::Responder responder) {
      std::lock_guard lock(mutex);
      inbound.push_back(pdu);
      if (inbound_policy) {
        inbound_policy(pdu, std::move(responder));
      } else {
        responder.respond(0);
      }
    });
    sessions.push_back(session);
    return session;
  }

  // A started session that has bound (the test stops here if it does not).
  std::shared_ptr<smpp::Session> bound_session(smpp::SessionSettings s) {
    auto session = this->session(std::move(s));
    session->start();
    REQUIRE(bound(session));
    return session;
  }

  bool bound(const std::shared_ptr<smpp::Session>& s, std::chrono::milliseconds timeout = 10s) {
    return eventually([&] { return s->state() == smpp::SessionState::bound; }, timeout);
  }

  // Submits and records the outcome; returns the index of the message.
  std::size_t submit(const std::shared_ptr<smpp::Session>& s, smpp::SubmitSm message,
                     smpp::SubmitPriority priority = smpp::SubmitPriority::urgent) {
    std::size_t index;
    {
      std::lock_guard lock(mutex);
      index = calls.size();
      calls.push_back(0);
      outcomes.emplace_back();
    }
    s->submit(std::move(message), [this, index](smpp::SubmitOutcome outcome) {
      std::lock_guard lock(mutex);
      ++calls[index];
      outcomes[index] = std::move(outcome);
    }, priority);
    return index;
  }

  // Submits every part of a split message.
  void submit_parts(const std::shared_ptr<smpp::Session>& s,
                    const std::vector<smpp::MessagePart>& parts) {
    for (const auto& part : parts) {
      smpp::SubmitSm message;
      message.source = {5, 0, "12580"};
      message.dest = {1, 1, "8613800138000"};
      message.data_coding = part.data_coding;
      message.esm_class = part.esm_class;
      message.short_message = part.short_message;
      message.tlvs = part.tlvs;
      submit(s, std::move(message));
    }
  }

  // Stops a session (or link) and waits, bounded, for it to close.
  template <class Stoppable>
  static bool stop(Stoppable& s, std::chrono::milliseconds drain = 1s,
                   std::chrono::milliseconds timeout = 10s) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    s.stop(drain, [done] { done->store(true); });
    return eventually([&] { return done->load(); }, timeout);
  }

  std::size_t settled() {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (int c : calls) n += c > 0 ? 1 : 0;
    return n;
  }

  std::optional<smpp::SubmitOutcome> outcome(std::size_t index) {
    std::lock_guard lock(mutex);
    if (calls[index] == 0) return std::nullopt;
    return outcomes[index];
  }

  std::vector<int> call_counts() {
    std::lock_guard lock(mutex);
    return calls;
  }

  std::size_t inbound_count() {
    std::lock_guard lock(mutex);
    return inbound.size();
  }

  // Stops every session (bounded) so nothing outlives the io_context.
  void stop_all() {
    for (auto& s : sessions) stop(*s, 1s, 5s);
    sessions.clear();
  }

  SimProcess sim;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::shared_ptr<log::MemorySink> log_sink = std::make_shared<log::MemorySink>();
  log::Logger logger{log_sink, log::Level::debug};
  std::mutex mutex;
  std::vector<smpp::Pdu> inbound;
  std::function<void(const smpp::Pdu&, smpp::Responder)> inbound_policy;
  std::vector<int> calls;
  std::vector<smpp::SubmitOutcome> outcomes;
  std::vector<std::shared_ptr<smpp::Session>> sessions;
  std::thread thread;
};

inline smpp::SubmitSm text_message(std::string_view text, std::string dest = "8613800138000") {
  smpp::SubmitSm s;
  s.source = {5, 0, "12580"};
  s.dest = {1, 1, std::move(dest)};
  s.short_message.assign(text.begin(), text.end());
  return s;
}

}  // namespace giftgate::test
