#include "protocol/net/submit_window.hpp"

#include <algorithm>

#include "protocol/error.hpp"

namespace giftgate::smpp {

SubmitOutcome submit_failed(std::error_code error, std::uint32_t command_status, bool in_doubt) {
  SubmitOutcome o;
  o.kind = SubmitOutcome::Kind::failed;
  o.error = error;
  o.command_status = command_status;
  o.in_doubt = in_doubt;
  return o;
}

SubmitOutcome submit_returned(std::error_code error) {
  SubmitOutcome o;
  o.kind = SubmitOutcome::Kind::returned;
  o.error = error;
  return o;
}

SubmitWindow::SubmitWindow(Limits limits, Observer observer)
    : limits_(limits), observer_(std::move(observer)) {
  limits_.window = std::max<std::size_t>(limits_.window, 1);
}

void SubmitWindow::offer(SubmitSm message, SubmitHandler handler, SubmitPriority priority) {
  if (priority == SubmitPriority::urgent) {
    // A push backlog must not turn an answer away: the newest bulk submits,
    // those that would have gone last, give up their places (their owner
    // takes them back, as from any full queue). Before the checks below,
    // since a displaced one's handler may offer again or stop the window.
    while (!stopped_ && !refusing_ && queued() >= limits_.max_queue && !bulk_.empty()) {
      Submit displaced = std::move(bulk_.back());
      bulk_.pop_back();
      finish(displaced.handler, submit_returned(make_error_code(errc::queue_full)));
    }
  }
  if (stopped_) return finish(handler, submit_returned(make_error_code(errc::stopped)));
  if (!limits_.can_send)
    return finish(handler, submit_failed(make_error_code(errc::not_bound_for_sending), 0, false));
  if (refusing_) return finish(handler, submit_returned(refusing_));
  if (queued() >= limits_.max_queue)
    return finish(handler, submit_returned(make_error_code(errc::queue_full)));
  queue_of(priority).push_back(Submit{std::move(message), std::move(handler), priority});
}

SubmitWindow::Submit SubmitWindow::take_next() {
  auto& queue = urgent_.empty() ? bulk_ : urgent_;
  Submit next = std::move(queue.front());
  queue.pop_front();
  return next;
}

void SubmitWindow::written(std::uint32_t sequence, Submit submit) {
  in_flight_.insert_or_assign(sequence, std::move(submit));
}

void SubmitWindow::settle_unwritten(Submit submit, SubmitOutcome outcome) {
  finish(submit.handler, std::move(outcome));
}

void SubmitWindow::settle(std::uint32_t sequence, SubmitOutcome outcome) {
  const auto it = in_flight_.find(sequence);
  if (it == in_flight_.end()) return;
  auto handler = std::move(it->second.handler);
  in_flight_.erase(it);
  finish(handler, std::move(outcome));
}

void SubmitWindow::requeue(std::uint32_t sequence) {
  const auto it = in_flight_.find(sequence);
  if (it == in_flight_.end()) return;
  Submit submit = std::move(it->second);
  in_flight_.erase(it);
  // After stop() nothing waits: it is returned like the rest were; nor
  // while offers are refused.
  if (stopped_ || refusing_)
    return finish(submit.handler,
                  submit_returned(stopped_ ? make_error_code(errc::stopped) : refusing_));
  // Ahead of the rest of its own queue only: a refused bulk submit does not
  // jump the urgent ones.
  queue_of(submit.priority).push_front(std::move(submit));
}

void SubmitWindow::return_queued(std::error_code error) {
  return_all_queued(submit_returned(error));
}

void SubmitWindow::return_all_queued(const SubmitOutcome& outcome) {
  // Moved out first: a handler may offer again (to this window, which
  // queues or refuses it, but does not return it twice).
  auto urgent = std::move(urgent_);
  auto bulk = std::move(bulk_);
  urgent_.clear();
  bulk_.clear();
  for (auto& submit : urgent) finish(submit.handler, outcome);
  for (auto& submit : bulk) finish(submit.handler, outcome);
}

void SubmitWindow::fail_in_flight(std::error_code error, bool in_doubt) {
  // Moved out first: a handler may offer again.
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [sequence, submit] : in_flight)
    finish(submit.handler, submit_failed(error, 0, in_doubt));
}

void SubmitWindow::stop() {
  stopped_ = true;
  return_all_queued(submit_returned(make_error_code(errc::stopped)));
}

void SubmitWindow::finish(SubmitHandler& handler, SubmitOutcome outcome) {
  if (observer_) observer_(outcome.kind);
  if (handler) {
    auto h = std::move(handler);
    handler = nullptr;
    h(std::move(outcome));
  }
}

}  // namespace giftgate::smpp
