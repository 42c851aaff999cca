#include "daemon/gateway/gateway.hpp"

#include <unistd.h>

#include <algorithm>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "daemon/campaign/phone.hpp"
#include "daemon/gateway/boundary.hpp"

namespace giftgate {
namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kSweepEvery = std::chrono::seconds(5);
// The rates giftctl status shows are over the last spell of this length.
constexpr auto kRatesEvery = std::chrono::seconds(5);
constexpr auto kReassemblyTimeout = std::chrono::seconds(60);
// MOs read and left waiting for the outbox before they are handled anyway
// (the session stops reading at kInboundRoom unanswered, gateway_smscs.cpp:
// receipts and submit answers must still get through).
constexpr std::size_t kMaxWaiting = 512;
// Commits at most this often: under load a batch gathers a few
// milliseconds of work (each commit writes every page it touched and waits
// for the disk), idle a lone MO is committed at once.
constexpr auto kCommitGap = std::chrono::milliseconds(5);

std::string concat_key(const std::string& sender, const smpp::Concatenation& c) {
  return fmt::format("{}|{}|{}", sender, static_cast<int>(c.kind), c.reference);
}

}  // namespace

Gateway::Gateway(boost::asio::io_context& io, boost::asio::any_io_executor net, Config config,
                 db::Database& db,
                 std::shared_ptr<const Templates> templates,
                 std::shared_ptr<const UssdMenus> menus, log::Logger logger)
    : io_(io),
      config_(std::move(config)),
      db_(db),
      log_(std::move(logger)),
      service_(db, config_, templates),
      outbox_(db, config_.daemon.resend),
      reassembler_(smpp::Reassembler::Limits{kReassemblyTimeout, 1u << 20}),
      timer_(io),
      commit_timer_(io),
      store_(db),
      batch_(store_, [] { return std::chrono::steady_clock::now(); },
             [this](std::chrono::steady_clock::time_point at, std::function<void()> run) {
               schedule_commit(at, std::move(run));
             },
             batch_hooks(), kCommitGap),
      retention_(db, config_.retention),
      retention_timer_(io),
      pushes_(db, config_, templates),
      reminders_(db, config_, templates),
      push_timer_(io),
      api_(db, config_, service_, outbox_, std::move(templates), log_.child({{"part", "api"}})),
      console_({db, config_, service_, outbox_, log_.child({{"part", "console"}})}) {
  service_.set_dedupe_window(std::chrono::seconds(config_.daemon.mo_dedupe_seconds));
  ussd_ = config_.ussd.enabled && menus;
  service_.set_menus(std::move(menus));
  process_epoch_ = fmt::format("{}.{}", now().time_since_epoch().count(), ::getpid());
  open_connections(std::move(net));
}

Time Gateway::now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

void Gateway::start() {
  for (const auto& warning : config_warnings(config_)) log_.warning("config_warning", {{"what", warning}});
  if (const int n = outbox_.recover(now()); n > 0)
    log_.warning("outbox_recovered", {{"messages", n}, {"reason", "interrupted before answered"}});
  // The links call these on their own thread: the work is posted to ours.
  for (std::size_t i = 0; i < conns_.size(); ++i) {
    smpp::Link& link = *conns_[i].link;
    link.on_inbound([this, i](const smpp::Pdu& pdu, smpp::Responder r) {
      boost::asio::post(io_, [this, i, pdu, r = std::move(r)]() mutable {
        receive(i, pdu, std::move(r));
      });
    });
    link.on_state([this, i, &link](smpp::SessionState state, std::error_code) {
      // Read here, in order with the MOs posted before and after it, so
      // that a bind lost and made again is counted even if both are posted
      // before either runs.
      const bool now_bound = state == smpp::SessionState::bound && link.bound();
      boost::asio::post(io_, [this, i, now_bound] { on_link_state(i, now_bound); });
    });
  }
  for (std::size_t s = 0; s < smscs_.size(); ++s) share_rate(s);
  for (auto& c : conns_) c.link->start();
  tick();
  prune_when_quiet();
  push_step();
}

void Gateway::stop(std::function<void()> done) {
  stopping_ = true;
  timer_.cancel();
  retention_timer_.cancel();
  push_timer_.cancel();
  // Parts of MOs still waiting for the rest were never handled: the SMSC
  // gets a temporary error and delivers them again.
  for (auto& [key, held] : held_)
    for (auto& r : held.responders) r.respond(smpp::status::temporary_app_error);
  held_.clear();
  waiting_.drain([](Waiting& w) { w.responder.respond(smpp::status::temporary_app_error); });
  // Every connection drains and unbinds at once; done runs after the last.
  // io_ may have nothing else left to wait for while the links drain on
  // their own thread: the guard keeps it running until then.
  auto remaining = std::make_shared<std::size_t>(conns_.size());
  auto finish = std::make_shared<std::function<void()>>(
      [this, done = std::move(done), guard = boost::asio::make_work_guard(io_)]() mutable {
        batch_.commit();  // the last answers to submits are kept, not rolled back
        guard.reset();
        done();
      });
  if (conns_.empty()) return boost::asio::post(io_, [finish] { (*finish)(); });
  const auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(config_.daemon.drain);
  for (auto& c : conns_)
    c.link->stop(drain, [this, remaining, finish] {
      boost::asio::post(io_, [remaining, finish] {
        if (--*remaining == 0) (*finish)();
      });
    });
}

void Gateway::apply_settings(Config next, std::shared_ptr<const Templates> templates,
                             std::shared_ptr<const UssdMenus> menus) {
  boost::asio::post(io_, [this, next = std::move(next), templates = std::move(templates),
                          menus = std::move(menus)]() mutable {
    // The Service reads config_ by reference (limits, keywords, USSD, the
    // campaign's texts); what others copied at start is handed over here.
    // What needs a restart is the same in `next` as in config_.
    config_ = std::move(next);
    outbox_.set_policy(config_.daemon.resend);
    service_.set_dedupe_window(std::chrono::seconds(config_.daemon.mo_dedupe_seconds));
    retention_.set_settings(config_.retention);
    service_.set_campaign(config_.campaign);
    pushes_.set_templates(templates);
    reminders_.set_templates(templates);
    api_.set_templates(templates);
    service_.set_templates(std::move(templates));
    ussd_ = config_.ussd.enabled && menus;
    if (menus) service_.set_menus(std::move(menus));
    log_.info("reloaded", {{"templates", config_.templates_path}});
  });
}

void Gateway::tick() {
  if (stopping_) return;
  outbox_dirty_ = true;  // resends come due with time, giftctl queues from outside
  batch_.join();
  const auto steady = std::chrono::steady_clock::now();
  if (steady - last_sweep_ >= kSweepEvery) {
    last_sweep_ = steady;
    // A receipt can be ahead of its submit_sm_resp by the response timeout
    // at most (the submit has failed by then); the rest is batching.
    auto longest = std::chrono::milliseconds(0);
    for (const auto& e : config_.daemon.smscs) longest = std::max(longest, e.session.response_timeout);
    const auto early_window =
        std::chrono::duration_cast<std::chrono::seconds>(longest) + std::chrono::seconds(10);
    const auto swept = outbox_.sweep(now(), early_window);
    if (swept.overdue > 0) log_.info("receipts_overdue", {{"messages", swept.overdue}});
    for (const auto& id : swept.unclaimed) {
      ++metrics_.receipts_unmatched["unclaimed"];
      log_.info("receipt_unmatched", {{"message_id", id}, {"reason", "no message claimed it"}});
    }
    if (const int n = service_.expire_ussd_sessions(now()); n > 0)
      log_.debug("ussd_sessions_timed_out", {{"sessions", n}});
    reassembler_.expire(steady);
    for (auto it = held_.begin(); it != held_.end();) {
      if (steady - it->second.since < kReassemblyTimeout) {
        ++it;
        continue;
      }
      log_.warning("mo_incomplete", {{"parts_held", it->second.responders.size()}});
      for (auto& r : it->second.responders) r.respond(smpp::status::temporary_app_error);
      it = held_.erase(it);
    }
  }
  if (steady - last_rates_ >= kRatesEvery) sample_rates(steady);
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void Gateway::receive(std::size_t conn, const smpp::Pdu& pdu, smpp::Responder responder) {
  batch_.join();
  const auto mo = boundary::arrival(pdu);
  if (mo) last_mo_ = std::chrono::steady_clock::now();
  if (!waiting_.empty() || backlog_ >= backlog_limit()) {
    if (mo) {
      // Behind the sender's own waiting MOs, in turn with everyone else's;
      // a USSD step first, since its member is looking at the phone.
      waiting_.push(mo->sender, {conn, pdu, std::move(responder)}, mo->ussd);
      ++metrics_.mo_waited;
      if (waiting_.size() > kMaxWaiting) admit();
      return;
    }
  }
  route(conn, pdu, std::move(responder));
}

void Gateway::admit() {
  while (!waiting_.empty() && !stopping_ &&
         (backlog_ < backlog_limit() || waiting_.size() > kMaxWaiting)) {
    Waiting w = waiting_.pop();
    route(w.conn, w.pdu, std::move(w.responder));
  }
}

void Gateway::route(std::size_t conn, const smpp::Pdu& pdu, smpp::Responder responder) {
  // A data_sm is read as a deliver_sm, answered with data_sm_resp.
  smpp::DeliverSm from_data;
  const auto* deliver = boundary::as_deliver_sm(pdu, from_data);
  if (!deliver) {  // the session hands over deliver_sm and data_sm alone
    ignore(std::move(responder), "not a message");
    return;
  }
  if (boundary::is_receipt(*deliver)) {
    if (const auto receipt = smpp::parse_delivery_receipt(*deliver)) {
      on_receipt(conn, *deliver, *receipt, std::move(responder));
    } else {
      log_.warning("receipt_unreadable", {{"from", mask_msisdn(deliver->source.addr)}});
      ignore(std::move(responder), "unreadable receipt");  // asking again will not help
    }
    return;
  }
  on_mo(conn, *deliver, std::move(responder));
}

void Gateway::ignore(smpp::Responder responder, const std::string& reason) {
  ++metrics_.inbound_ignored[reason];
  batch_.acknowledge(std::move(responder), smpp::status::ok);
}

smpp::IdReadings Gateway::read_id(const Conn& c, smpp::IdFormatLearner& learner,
                                  std::string_view side, std::string_view raw) {
  if (learner.observe(raw))
    log_.info("message_ids_learnt", {{"smsc", entry(c).id},
                                     {"side", std::string(side)},
                                     {"format", smpp::to_string(learner.format())}});
  return learner.read(raw);
}

void Gateway::on_receipt(std::size_t conn, const smpp::DeliverSm& pdu,
                         const smpp::DeliveryReceipt& receipt, smpp::Responder responder) {
  Conn& c = conns_[conn];
  ++c.receipts;
  const auto readings = read_id(c, smscs_[c.smsc].receipt_ids, "receipts", receipt.message_id);
  // Ids are the SMSC's own: matched among the parts sent through it.
  const ReceiptReport report = boundary::receipt_report(pdu, receipt, readings, entry(c), config_);
  const std::string& id = readings.first;
  const auto& stat = report.stat;
  switch (outbox_.receipt(report, now())) {
    case Outbox::ReceiptMatch::failed:
      ++metrics_.mo_failed;
      log_.error("receipt_not_stored", {{"message_id", id}, {"reason", "database"}});
      batch_.acknowledge(std::move(responder), smpp::status::temporary_app_error);
      return;
    case Outbox::ReceiptMatch::early:
      ++metrics_.receipts_early;
      log_.debug("receipt_early", {{"message_id", id}, {"stat", stat}});
      break;
    case Outbox::ReceiptMatch::wrong_recipient:
      ++metrics_.receipts_unmatched["recipient"];
      log_.warning("receipt_unmatched", {{"message_id", id},
                                         {"stat", stat},
                                         {"to", mask_msisdn(pdu.source.addr)},
                                         {"reason", "no message with this id went to its number"}});
      break;
    case Outbox::ReceiptMatch::ambiguous:
      ++metrics_.receipts_unmatched["ambiguous"];
      log_.warning("receipt_unmatched", {{"message_id", id},
                                         {"stat", stat},
                                         {"reason", "its id fits more than one message"}});
      break;
    case Outbox::ReceiptMatch::applied:
      log_.debug("receipt", {{"message_id", id}, {"stat", stat}});
      break;
  }
  ++metrics_.receipts_by_state[stat];
  batch_.acknowledge(std::move(responder), smpp::status::ok);
}

void Gateway::on_mo(std::size_t conn, const smpp::DeliverSm& mo, smpp::Responder responder) {
  ++conns_[conn].mos;
  const auto sender = normalize_msisdn(mo.source.addr, config_.default_country);
  if (!sender) {
    log_.warning("mo_bad_sender", {{"from", mask_msisdn(mo.source.addr)}});
    ignore(std::move(responder), "sender not a number");  // no one to answer
    return;
  }
  if (const auto info = smpp::ussd_info(mo)) {
    on_ussd(conn, mo, *info, *sender, std::move(responder));
    return;
  }
  const smpp::UserData part = smpp::user_data(mo);
  if (!part.concatenation) {
    Responders one;
    one.push_back(std::move(responder));
    handle_sms(conn, *sender, boundary::mo_text(part.data_coding, part.octets, entry(conns_[conn])),
               std::move(one));
    return;
  }
  const auto steady = std::chrono::steady_clock::now();
  const std::string key = concat_key(*sender, *part.concatenation);
  auto result = reassembler_.add(*sender, part, steady);
  auto& held = held_[key];
  if (held.responders.empty()) held.since = steady;
  held.responders.push_back(std::move(responder));
  if (result.status == smpp::Reassembler::Status::complete) {
    std::string text = boundary::mo_text(result.data_coding, result.joined(), entry(conns_[conn]));
    Responders all = std::move(held.responders);
    held_.erase(key);
    handle_sms(conn, *sender, std::move(text), std::move(all));
  } else if (result.status == smpp::Reassembler::Status::rejected) {
    log_.warning("mo_part_rejected", {{"from", mask_msisdn(*sender)}});
    for (auto& r : held.responders) ignore(std::move(r), "part not joinable");
    held_.erase(key);
  }
  // pending or duplicate: held until the whole message is handled
}

void Gateway::on_ussd(std::size_t conn, const smpp::DeliverSm& pdu, const smpp::UssdInfo& info,
                      const std::string& sender, smpp::Responder responder) {
  const Conn& c = conns_[conn];
  const auto step = boundary::ussd_step(info.op, config_.ussd);
  if (!ussd_ || !step) {
    log_.warning("ussd_ignored", {{"from", mask_msisdn(sender)},
                                  {"op", smpp::ussd_op_name(info.op)},
                                  {"reason", ussd_ ? "an operation not in ussd.operations"
                                                   : "USSD is not enabled"}});
    ignore(std::move(responder), "USSD operation not served");  // again would not help
    return;
  }
  const smpp::UserData data = smpp::user_data(pdu);
  UssdMo mo = boundary::ussd_mo(*step, fmt::format("{}.{}", connection_epoch(c), ++mo_sequence_),
                                sender, boundary::mo_text(data.data_coding, data.octets, entry(c)),
                                now(), info);
  // The answer goes back through this SMSC (and this bind, where the
  // centre keeps the dialogue per bind).
  mo.route = Router::route_of(entry(c).id, c.bind, entry(c).ussd_same_bind);
  const UssdOutcome out = service_.handle_ussd(mo);
  outbox_dirty_ = true;
  backlog_ += out.messages.size() + 1;
  switch (out.status) {
    case UssdOutcome::Status::failed:
      ++metrics_.mo_failed;
      log_.error("mo_not_committed", {{"from", mask_msisdn(sender)},
                                      {"channel", "ussd"},
                                      {"reason", out.error}});
      batch_.acknowledge(std::move(responder), smpp::status::temporary_app_error);
      return;
    case UssdOutcome::Status::duplicate:
      ++metrics_.mo_duplicates;
      log_.info("mo_duplicate", {{"from", mask_msisdn(sender)}, {"channel", "ussd"}});
      break;
    case UssdOutcome::Status::done:
      if (out.overrun != Overrun::none) {
        ++metrics_.mo_limited[fmt::format("ussd_{}", overrun_name(out.overrun))];
        if (out.screen.empty()) break;  // told already within the period: nothing to log
      }
      ++metrics_.ussd_screens[out.screen.empty() ? "aborted" : out.screen];
      for (const auto& m : out.messages)
        if (m == "voucher") ++metrics_.redemptions;
      log_.info("ussd", {{"from", mask_msisdn(sender)},
                         {"session", mo.session_key},
                         {"screen", out.screen.empty() ? "(aborted)" : out.screen},
                         {"ended", out.ended ? 1 : 0},
                         {"sms", out.messages.size()}});
      break;
  }
  batch_.acknowledge(std::move(responder), smpp::status::ok);  // once committed
}

void Gateway::handle_sms(std::size_t conn, const std::string& sender, std::string text,
                         Responders responders) {
  const Conn& c = conns_[conn];
  const std::string epoch = connection_epoch(c);
  Mo mo = boundary::sms_mo(fmt::format("{}.{}", epoch, ++mo_sequence_), sender, std::move(text),
                           now(), epoch, entry(c));
  mo.route = Router::route_of(entry(c).id, c.bind, false);
  const MoOutcome out = service_.handle(mo);
  outbox_dirty_ = true;
  backlog_ += out.replies.size();
  switch (out.status) {
    case MoOutcome::Status::failed:
      ++metrics_.mo_failed;
      log_.error("mo_not_committed", {{"from", mask_msisdn(sender)}, {"reason", out.error}});
      for (auto& r : responders) batch_.acknowledge(std::move(r), smpp::status::temporary_app_error);
      return;
    case MoOutcome::Status::duplicate:
      ++metrics_.mo_duplicates;
      log_.info("mo_duplicate", {{"from", mask_msisdn(sender)}});
      break;
    case MoOutcome::Status::done: {
      if (out.overrun != Overrun::none) {
        ++metrics_.mo_limited[std::string(overrun_name(out.overrun))];
        // Logged when the sender is told, not for every MO of a flood.
        if (!out.replies.empty())
          log_.info("mo_limited", {{"from", mask_msisdn(sender)},
                                   {"limit", overrun_name(out.overrun)}});
        break;
      }
      if (!out.verify_failure.empty()) {
        ++metrics_.verify_failures[out.verify_failure];
        if (out.merchant_locked) {
          ++metrics_.merchant_lockouts[out.verify_failure];
          log_.warning("merchant_locked", {{"merchant", out.verify_failure},
                                           {"from", mask_msisdn(sender)}});
        }
      }
      const std::string command(command_name(out.command));
      ++metrics_.mo_by_command[command];
      for (const auto& m : out.messages) {
        if (m == "voucher") ++metrics_.redemptions;
        if (m == "verified" || m.rfind("verify_", 0) == 0) ++metrics_.verifications[m];
      }
      log_.info("mo", {{"from", mask_msisdn(sender)},
                       {"command", command},
                       {"replies", out.replies.size()}});
      break;
    }
  }
  for (auto& r : responders) batch_.acknowledge(std::move(r), smpp::status::ok);  // once committed
}

GroupCommit<smpp::Responder>::Hooks Gateway::batch_hooks() {
  GroupCommit<smpp::Responder>::Hooks hooks;
  hooks.before_commit = [this] {
    if (!waiting_.empty()) admit();
    // A push under way gives a few turns in every batch, so it goes on
    // while MOs keep the batch open, each batch only a little longer.
    push_turns_in_batch();
    // Taken and their parts' rows written in this batch: nothing goes out
    // unless the batch that records it commits.
    to_send_ = prepare(take_due());
  };
  hooks.after_commit = [this](bool committed) {
    if (!committed) {
      // Their state went back to queued with the batch: taken again later.
      outbox_dirty_ = true;
      to_send_.clear();
    }
    send(std::move(to_send_));
    to_send_.clear();
  };
  hooks.failed = [this](std::size_t refused, const std::string& why) {
    log_.error("batch_not_committed", {{"answers_refused", refused}, {"reason", why}});
  };
  hooks.slow = [this](std::chrono::milliseconds took, std::size_t answers) {
    log_.warning("slow_commit", {{"ms", took.count()}, {"answers", answers}});
  };
  return hooks;
}

void Gateway::schedule_commit(std::chrono::steady_clock::time_point at, std::function<void()> run) {
  if (std::chrono::steady_clock::now() >= at) {
    boost::asio::post(io_, std::move(run));
    return;
  }
  commit_timer_.expires_at(at);
  commit_timer_.async_wait([run = std::move(run)](boost::system::error_code) { run(); });
}

}  // namespace giftgate
