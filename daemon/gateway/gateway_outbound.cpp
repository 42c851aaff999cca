// What goes out: messages taken from the outbox, each placed on a
// connection by the Router, submitted, and every answer recorded.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "daemon/gateway/boundary.hpp"
#include "daemon/gateway/gateway.hpp"

namespace giftgate {

std::vector<Outbound> Gateway::take_due() {
  if (stopping_ || !outbox_dirty_) return {};
  // As much as the connections up have room for; a USSD screen only while
  // its own SMSC (or bind) is up.
  std::size_t room = 0;
  std::vector<std::string> open;
  for (const auto& c : conns_) {
    if (!c.bound) continue;
    room += room_of(c);
    const std::string& id = entry(c).id;
    if (std::ranges::find(open, id) == open.end()) open.push_back(id);
    open.push_back(Router::route_of(id, c.bind, true));
  }
  if (room == 0) return {};
  auto due = outbox_.take_due(now(), room, &open, bulk_room());
  backlog_ -= std::min(backlog_, due.size());
  if (due.size() < room) {  // took all there was
    outbox_dirty_ = false;
    backlog_ = 0;
  }
  return due;
}

std::vector<Gateway::Send> Gateway::prepare(const std::vector<Outbound>& due) {
  std::vector<Send> out;
  const Time t = now();
  std::vector<Router::Connection> room;
  room.reserve(conns_.size());
  for (const auto& c : conns_) room.push_back({entry(c).id, c.bind, c.bound, room_of(c)});
  for (const auto& m : due) {
    const auto wanted = Router::wanted(m.route, m.ussd_op.has_value(), config_.daemon.reply_via_origin);
    // The parts it will have (as many as it had, for a resend of the same
    // split; the exact count follows from the connection's alphabet).
    const auto conn = router_.pick(room, wanted, std::max(1, m.parts_before));
    if (!conn) {
      // Its SMSC went down since take_due: back to the outbox, no attempt used.
      if (const auto s = outbox_.submit_returned(m.id, m.attempt, 1, 1, "its SMSC is not bound", t);
          !s.ok())
        log_.warning("part_not_recorded", {{"outbox_id", m.id}, {"reason", s.message}});
      continue;
    }
    const Conn& c = conns_[*conn];
    std::string why;
    auto submits = boundary::submits_for(m, entry(c), config_, &why);
    if (submits.empty()) {
      log_.error("submit_impossible", {{"outbox_id", m.id}, {"reason", why}});
      outbox_.submit_failed(m.id, m.attempt, 1, 1, smpp::status::system_error, why, t);
      continue;
    }
    if (m.attempt > 1) ++metrics_.resends;
    const int total = static_cast<int>(submits.size());
    // A resend carries the parts that failed, with the same reference and
    // numbering; the handset keeps the ones it has. Should the text split
    // otherwise now (another alphabet configured), every part goes again.
    const bool same_split = m.parts_before == total;
    const auto priority = m.priority == kPriorityBulk ? smpp::SubmitPriority::bulk
                                                      : smpp::SubmitPriority::urgent;
    for (int index = 1; index <= total; ++index) {
      if (same_split && std::ranges::find(m.skip_parts, index) != m.skip_parts.end()) continue;
      if (const auto s = outbox_.sending(m.id, m.attempt, index, total, t, entry(c).id); !s.ok())
        log_.warning("part_not_recorded", {{"outbox_id", m.id}, {"reason", s.message}});
      out.push_back({*conn, m.id, m.attempt, index, total,
                     std::move(submits[static_cast<std::size_t>(index - 1)]), priority});
    }
  }
  return out;
}

void Gateway::send(std::vector<Send> parts) {
  if (parts.empty()) return;
  // One hand-over to each connection's thread for its share of the batch,
  // two when it has both: answers (urgent) and push parts (bulk), which the
  // session writes only after every answer waiting.
  using Batch = std::vector<std::pair<smpp::SubmitSm, smpp::Session::SubmitHandler>>;
  std::vector<Batch> urgent(conns_.size());
  std::vector<Batch> bulk(conns_.size());
  for (auto& p : parts) {
    ++in_flight_;
    ++conns_[p.conn].in_flight;
    (p.priority == smpp::SubmitPriority::bulk ? bulk : urgent)[p.conn].emplace_back(
        std::move(p.submit), [this, conn = p.conn, id = p.id, attempt = p.attempt,
                              index = p.index, total = p.total](smpp::SubmitOutcome outcome) {
          boost::asio::post(io_, [this, conn, id, attempt, index, total,
                                  outcome = std::move(outcome)] {
            on_submitted(conn, id, attempt, index, total, outcome);
          });
        });
  }
  for (std::size_t i = 0; i < conns_.size(); ++i) {
    if (!urgent[i].empty()) conns_[i].link->submit_all(std::move(urgent[i]));
    if (!bulk[i].empty())
      conns_[i].link->submit_all(std::move(bulk[i]), smpp::SubmitPriority::bulk);
  }
}

void Gateway::on_submitted(std::size_t conn, std::int64_t id, int attempt, int index, int total,
                           const smpp::SubmitOutcome& outcome) {
  --in_flight_;
  Conn& c = conns_[conn];
  --c.in_flight;
  batch_.join();
  const Time at = now();
  // What the answer's optional parameters say, for the message's history.
  const std::string detail = smpp::failure_details(outcome.tlvs);
  if (outcome.kind == smpp::SubmitOutcome::Kind::sent) {
    ++metrics_.mt_submitted;
    ++c.submitted;
    const auto readings =
        read_id(c, smscs_[c.smsc].response_ids, "submit_sm_resp", outcome.message_id);
    batch_.record([this, id, attempt, index, total, ids = MessageIds{readings.first, readings.second},
            detail, at] {
      if (!outbox_.submitted(id, attempt, index, total, ids, at, detail).ok())
        log_.error("submit_not_recorded", {{"outbox_id", id}});
    });
    return;
  }
  // Sent again at once through another connection that is up, when this
  // one lost it (never written, or its answer lost with the connection),
  // rather than after the back-off meant for a phone that could not take it.
  const bool elsewhere = std::ranges::any_of(conns_, [&](const Conn& k) {
    return k.bound && &k != &c;
  });
  const auto lost_retry = elsewhere ? Outbox::Retry::at_once : Outbox::Retry::backoff;
  if (outcome.kind == smpp::SubmitOutcome::Kind::returned) {
    // Never written: back to the outbox without using an attempt (unless
    // another part of it was written).
    ++c.returned;
    outbox_dirty_ = true;
    batch_.record([this, id, attempt, index, total, why = outcome.error.message(), at, lost_retry] {
      if (!outbox_.submit_returned(id, attempt, index, total, why, at, lost_retry).ok())
        log_.error("submit_not_recorded", {{"outbox_id", id}});
    });
    return;
  }
  ++metrics_.mt_submit_failed;
  ++c.submit_failed;
  if (outcome.in_doubt) ++c.in_doubt;
  const bool refused = outcome.kind == smpp::SubmitOutcome::Kind::failed && outcome.command_status;
  std::string why = refused ? fmt::format("submit_sm_resp status 0x{:08X}", outcome.command_status)
                            : fmt::format("{}{}", outcome.error.message(),
                                          outcome.in_doubt ? " (in doubt: may have been sent)" : "");
  if (!detail.empty()) why += " (" + detail + ")";
  log_.warning("submit_failed", {{"outbox_id", id},
                                  {"connection", c.name},
                                  {"attempt", attempt},
                                  {"part", index},
                                  {"reason", why}});
  const std::int64_t status = refused ? std::int64_t{outcome.command_status} : Outbox::kNoAnswer;
  const auto retry = outcome.in_doubt ? lost_retry : Outbox::Retry::backoff;
  if (retry == Outbox::Retry::at_once) outbox_dirty_ = true;
  batch_.record([this, id, attempt, index, total, status, why, detail, at, retry] {
    outbox_.submit_failed(id, attempt, index, total, status, why, at, detail, retry);
  });
}

}  // namespace giftgate
