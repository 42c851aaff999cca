#include "protocol/net/read_flow.hpp"

#include <algorithm>

namespace giftgate::smpp {

ReadFlow::ReadFlow(std::size_t max_inbound_pending, std::size_t max_write_queue)
    : max_unanswered_(std::max<std::size_t>(max_inbound_pending, 1)),
      max_write_queue_(std::max<std::size_t>(max_write_queue, 1)) {}

void ReadFlow::reset() {
  unanswered_ = 0;
  write_queue_ = 0;
  paused_ = false;
}

bool ReadFlow::answered() {
  if (unanswered_ > 0) --unanswered_;
  return resume_if_drained();
}

bool ReadFlow::wrote(std::size_t n) {
  write_queue_ -= std::min(n, write_queue_);
  return resume_if_drained();
}

std::string_view ReadFlow::pause() {
  paused_ = true;
  return unanswered_ >= max_unanswered_ ? "inbound_pending" : "write_queue";
}

bool ReadFlow::resume_if_drained() {
  if (!paused_) return false;
  if (unanswered_ * 5 > max_unanswered_ * 4) return false;
  if (write_queue_ * 5 > max_write_queue_ * 4) return false;
  paused_ = false;
  return true;
}

}  // namespace giftgate::smpp
