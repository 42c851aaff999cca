// A queue served in turns between senders: each sender's items in the order
// they came, one sender's item after another's. The MOs read while the
// outbox is full wait in one, so a number that floods waits behind its own
// messages and not in front of everyone else's. Urgent items (a member
// waiting on a USSD screen) go before all others, in their own turns.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

namespace giftgate {

template <typename T>
class FairQueue {
 public:
  void push(const std::string& sender, T item, bool urgent = false) {
    Lane& lane = lanes_[urgent ? 0 : 1];
    auto& items = lane.by_sender[sender];
    if (items.empty()) lane.turns.push_back(sender);
    items.push_back(std::move(item));
    ++size_;
  }

  // The next item: the urgent lane's next sender first, then the other's.
  // Call only when not empty().
  T pop() {
    Lane& lane = lanes_[0].turns.empty() ? lanes_[1] : lanes_[0];
    const std::string sender = std::move(lane.turns.front());
    lane.turns.pop_front();
    auto it = lane.by_sender.find(sender);
    T item = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) lane.by_sender.erase(it);
    else lane.turns.push_back(sender);  // its next item waits for the others' turns
    --size_;
    return item;
  }

  // Every item, then none (at stop: each gets its refusal).
  void drain(const std::function<void(T&)>& each) {
    for (auto& lane : lanes_) {
      for (auto& [sender, items] : lane.by_sender)
        for (auto& item : items) each(item);
      lane = {};
    }
    size_ = 0;
  }

  // The items `pick` chooses, each handed to `each` and taken out; the
  // others keep their order and turns (a connection gone: its MOs go).
  void drain_if(const std::function<bool(const T&)>& pick, const std::function<void(T&)>& each) {
    for (auto& lane : lanes_) {
      std::deque<std::string> turns;
      for (auto& sender : lane.turns) {
        auto it = lane.by_sender.find(sender);
        auto& items = it->second;
        std::deque<T> kept;
        for (auto& item : items) {
          if (pick(item)) {
            each(item);
            --size_;
          } else {
            kept.push_back(std::move(item));
          }
        }
        if (kept.empty()) {
          lane.by_sender.erase(it);
        } else {
          items = std::move(kept);
          turns.push_back(std::move(sender));
        }
      }
      lane.turns = std::move(turns);
    }
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Lane {
    std::deque<std::string> turns;  // senders with items, in turn order
    std::unordered_map<std::string, std::deque<T>> by_sender;
  };
  Lane lanes_[2];  // 0: urgent
  std::size_t size_ = 0;
};

}  // namespace giftgate
