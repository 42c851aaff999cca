#include "protocol/net/request_tracker.hpp"

namespace giftgate::smpp {

namespace {
constexpr std::uint32_t kMaxSequence = 0x7FFFFFFF;
}

RequestTracker::RequestTracker(BindKind bind, std::uint32_t first_sequence)
    : bind_(bind),
      next_(first_sequence == 0 || first_sequence > kMaxSequence ? 1 : first_sequence) {}

std::uint32_t RequestTracker::allocate() {
  // Terminates: at most the window plus a few control requests are ever
  // outstanding, far fewer than the 2^31 - 1 numbers.
  std::uint32_t sequence = 0;
  do {
    sequence = next_;
    next_ = next_ >= kMaxSequence ? 1 : next_ + 1;
  } while (requests_.count(sequence) != 0);
  return sequence;
}

void RequestTracker::track(std::uint32_t sequence, Kind kind, Clock::time_point deadline) {
  const auto [it, inserted] = requests_.emplace(sequence, Entry{kind, deadline});
  if (!inserted) {
    // allocate() never returns an outstanding number; keep the index whole anyway.
    deadlines_.erase({it->second.deadline, sequence});
    it->second = Entry{kind, deadline};
  }
  deadlines_.emplace(deadline, sequence);
}

std::optional<RequestTracker::Kind> RequestTracker::answer(std::uint32_t sequence,
                                                           CommandId response) {
  const auto it = requests_.find(sequence);
  if (it == requests_.end()) return std::nullopt;
  if (response != CommandId::generic_nack && response != expected_response(it->second.kind, bind_))
    return std::nullopt;
  const Kind kind = it->second.kind;
  deadlines_.erase({it->second.deadline, sequence});
  requests_.erase(it);
  return kind;
}

std::optional<RequestTracker::Request> RequestTracker::pop_expired(Clock::time_point now) {
  if (deadlines_.empty() || deadlines_.begin()->first > now) return std::nullopt;
  const auto [deadline, sequence] = *deadlines_.begin();
  deadlines_.erase(deadlines_.begin());
  const auto it = requests_.find(sequence);
  const Request expired{sequence, it->second.kind, deadline};
  requests_.erase(it);
  return expired;
}

std::optional<Clock::time_point> RequestTracker::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void RequestTracker::forget(Kind kind) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.kind != kind) {
      ++it;
      continue;
    }
    deadlines_.erase({it->second.deadline, it->first});
    it = requests_.erase(it);
  }
}

void RequestTracker::clear() {
  requests_.clear();
  deadlines_.clear();
}

CommandId RequestTracker::expected_response(Kind kind, BindKind bind) {
  switch (kind) {
    case Kind::bind: return bind_command(bind, true);
    case Kind::submit: return CommandId::submit_sm_resp;
    case Kind::enquire_link: return CommandId::enquire_link_resp;
    case Kind::unbind: return CommandId::unbind_resp;
  }
  return CommandId::generic_nack;
}

}  // namespace giftgate::smpp
