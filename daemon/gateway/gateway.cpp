#include "daemon/gateway/gateway.hpp"

#include <unistd.h>

#include <optional>

#include <sqlite3.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "daemon/campaign/phone.hpp"
#include "protocol/charset.hpp"
#include "protocol/split.hpp"

namespace giftgate {
namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kSweepEvery = std::chrono::seconds(5);
constexpr auto kReassemblyTimeout = std::chrono::seconds(60);
// MOs read and left waiting for the outbox before they are handled anyway
// (the session stops reading at kInboundRoom unanswered: receipts and
// submit answers must still get through).
constexpr std::size_t kMaxWaiting = 512;
constexpr std::size_t kInboundRoom = 1024;
// Commits at most this often: under load a batch gathers a few
// milliseconds of work (each commit writes every page it touched and waits
// for the disk), idle a lone MO is committed at once.
constexpr auto kCommitGap = std::chrono::milliseconds(5);
// A commit slower than this is logged: the disk is stalling everything.
constexpr auto kSlowCommit = std::chrono::milliseconds(50);

smpp::SessionSettings with_inbound_room(smpp::SessionSettings s) {
  s.max_inbound_pending = std::max(s.max_inbound_pending, kInboundRoom);
  return s;
}

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
      service_(db, config_, std::move(templates)),
      outbox_(db, config_.daemon.resend),
      link_(std::move(net), with_inbound_room(config_.daemon.smsc),
            config_.daemon.split_bind ? smpp::Link::Mode::transmitter_and_receiver
                                      : smpp::Link::Mode::transceiver,
            log_),
      reassembler_(smpp::Reassembler::Limits{kReassemblyTimeout, 1u << 20}),
      response_ids_(config_.daemon.response_ids),
      receipt_ids_(config_.daemon.receipt_ids),
      timer_(io),
      flush_timer_(io) {
  service_.set_dedupe_window(std::chrono::seconds(config_.daemon.mo_dedupe_seconds));
  ussd_ = config_.ussd.enabled && menus;
  service_.set_menus(std::move(menus));
  process_epoch_ = fmt::format("{}.{}", now().time_since_epoch().count(), ::getpid());
}

std::string Gateway::connection_epoch() const {
  return fmt::format("{}.{}", process_epoch_, binds_);
}

Time Gateway::now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

void Gateway::start() {
  for (const auto& warning : config_warnings(config_)) log_.warning("config_warning", {{"what", warning}});
  if (const int n = outbox_.recover(now()); n > 0)
    log_.warning("outbox_recovered", {{"messages", n}, {"reason", "interrupted before answered"}});
  // The link calls these on its own thread: the work is posted to ours.
  link_.on_inbound([this](const smpp::Pdu& pdu, smpp::Responder r) {
    boost::asio::post(io_, [this, pdu, r = std::move(r)]() mutable { on_inbound(pdu, std::move(r)); });
  });
  link_.on_state([this](smpp::SessionState state, std::error_code) {
    // Read here, in order with the MOs posted before and after it, so that
    // a bind lost and made again is counted even if both are posted before
    // either runs.
    const bool now_bound = state == smpp::SessionState::bound && link_.bound();
    boost::asio::post(io_, [this, now_bound] {
      const bool was_bound = bound_;
      bound_ = now_bound;
      if (bound_ && !was_bound) ++binds_;
      if (!bound_) waiting_.drain([](Waiting&) {});  // their connection is gone: the SMSC sends them again
      if (bound_) {
        outbox_dirty_ = true;
        work();
      }
    });
  });
  link_.start();
  tick();
}

void Gateway::stop(std::function<void()> done) {
  stopping_ = true;
  timer_.cancel();
  // Parts of MOs still waiting for the rest were never handled: the SMSC
  // gets a temporary error and delivers them again.
  for (auto& [key, held] : held_)
    for (auto& r : held.responders) r.respond(smpp::status::temporary_app_error);
  held_.clear();
  waiting_.drain([](Waiting& w) { w.responder.respond(smpp::status::temporary_app_error); });
  // io_ may have nothing else left to wait for while the link drains on
  // its own thread: the guard keeps it running until done.
  link_.stop(std::chrono::duration_cast<std::chrono::milliseconds>(config_.daemon.drain),
             [this, done = std::move(done),
              guard = boost::asio::make_work_guard(io_)]() mutable {
               boost::asio::post(io_, [this, done = std::move(done), guard = std::move(guard)] {
                 flush();  // the last answers to submits are kept, not rolled back
                 done();
               });
             });
}

void Gateway::reload(const Config& fresh, std::shared_ptr<const Templates> templates,
                     std::shared_ptr<const UssdMenus> menus) {
  config_.keywords = fresh.keywords;
  service_.set_templates(std::move(templates));
  if (menus) service_.set_menus(std::move(menus));
  log_.info("reloaded", {{"templates", fresh.templates_path}});
}

void Gateway::tick() {
  if (stopping_) return;
  outbox_dirty_ = true;  // resends come due with time, giftctl queues from outside
  work();
  const auto steady = std::chrono::steady_clock::now();
  if (steady - last_sweep_ >= kSweepEvery) {
    last_sweep_ = steady;
    // A receipt can be ahead of its submit_sm_resp by the response timeout
    // at most (the submit has failed by then); the rest is batching.
    const auto early_window =
        std::chrono::duration_cast<std::chrono::seconds>(config_.daemon.smsc.response_timeout) +
        std::chrono::seconds(10);
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
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

namespace {

// A receipt by its esm_class, or (data_sm receipts from some SMSCs) by the
// two parameters that only a receipt carries.
bool is_receipt(std::uint8_t esm_class, const smpp::Tlvs& tlvs) {
  return smpp::is_delivery_receipt(esm_class) ||
         (tlvs.has(smpp::tag::receipted_message_id) && tlvs.has(smpp::tag::message_state));
}

}  // namespace

void Gateway::on_inbound(const smpp::Pdu& pdu, smpp::Responder responder) {
  work();
  const auto* d = pdu.as<smpp::DeliverSm>();
  const auto* ds = pdu.as<smpp::DataSm>();
  const bool mo =
      (d && !is_receipt(d->esm_class, d->tlvs)) || (ds && !is_receipt(ds->esm_class, ds->tlvs));
  if (mo && (!waiting_.empty() || backlog_ >= backlog_limit())) {
    // Behind the sender's own waiting MOs, in turn with everyone else's; a
    // USSD step first, since its member is looking at the phone.
    const auto& sender = d ? d->source.addr : ds->source.addr;
    const auto& tlvs = d ? d->tlvs : ds->tlvs;
    waiting_.push(sender, {pdu, std::move(responder)}, tlvs.has(smpp::tag::ussd_service_op));
    ++metrics_.mo_waited;
    if (waiting_.size() > kMaxWaiting) admit();
    return;
  }
  dispatch(pdu, std::move(responder));
}

void Gateway::admit() {
  while (!waiting_.empty() && !stopping_ &&
         (backlog_ < backlog_limit() || waiting_.size() > kMaxWaiting)) {
    Waiting w = waiting_.pop();
    dispatch(w.pdu, std::move(w.responder));
  }
}

void Gateway::dispatch(const smpp::Pdu& pdu, smpp::Responder responder) {
  // A data_sm is read as a deliver_sm with its text in message_payload: the
  // same MOs and receipts, the same guarantees, answered with data_sm_resp.
  const auto* deliver = pdu.as<smpp::DeliverSm>();
  smpp::DeliverSm from_data;
  if (!deliver) {
    const auto* data = pdu.as<smpp::DataSm>();
    if (!data) {  // the session hands over deliver_sm and data_sm alone
      ignore(std::move(responder), "not a message");
      return;
    }
    from_data = smpp::as_deliver_sm(*data);
    deliver = &from_data;
  }
  if (is_receipt(deliver->esm_class, deliver->tlvs)) {
    if (const auto receipt = smpp::parse_delivery_receipt(*deliver)) {
      on_receipt(*deliver, *receipt, std::move(responder));
    } else {
      log_.warning("receipt_unreadable", {{"from", mask_msisdn(deliver->source.addr)}});
      ignore(std::move(responder), "unreadable receipt");  // asking again will not help
    }
    return;
  }
  on_mo(*deliver, std::move(responder));
}

void Gateway::ignore(smpp::Responder responder, const std::string& reason) {
  ++metrics_.inbound_ignored[reason];
  answer(std::move(responder), smpp::status::ok);
}

void Gateway::on_receipt(const smpp::DeliverSm& pdu, const smpp::DeliveryReceipt& receipt,
                         smpp::Responder responder) {
  if (receipt_ids_.observe(receipt.message_id))
    log_.info("message_ids_learnt", {{"side", "receipts"},
                                     {"format", smpp::to_string(receipt_ids_.format())}});
  const auto readings = receipt_ids_.read(receipt.message_id);
  ReceiptReport report;
  report.ids = MessageIds{readings.first, readings.second};
  if (config_.daemon.receipt_check_recipient)
    // The original recipient; a source that is no number matches no message.
    report.recipient =
        normalize_msisdn(pdu.source.addr, config_.default_country).value_or(std::string());
  report.stat = receipt.state ? std::string(smpp::to_string(*receipt.state)) : "UNKNOWN";
  report.error = receipt.error ? fmt::format("{:03}", *receipt.error) : "";
  report.detail = smpp::failure_details(pdu.tlvs);
  const std::string& id = readings.first;
  const auto& stat = report.stat;
  switch (outbox_.receipt(report, now())) {
    case Outbox::ReceiptMatch::failed:
      ++metrics_.mo_failed;
      log_.error("receipt_not_stored", {{"message_id", id}, {"reason", "database"}});
      answer(std::move(responder), smpp::status::temporary_app_error);
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
  answer(std::move(responder), smpp::status::ok);
}

void Gateway::on_mo(const smpp::DeliverSm& mo, smpp::Responder responder) {
  const auto sender = normalize_msisdn(mo.source.addr, config_.default_country);
  if (!sender) {
    log_.warning("mo_bad_sender", {{"from", mask_msisdn(mo.source.addr)}});
    ignore(std::move(responder), "sender not a number");  // no one to answer
    return;
  }
  if (const auto info = smpp::ussd_info(mo)) {
    on_ussd(mo, *info, *sender, std::move(responder));
    return;
  }
  const smpp::UserData part = smpp::user_data(mo);
  if (!part.concatenation) {
    const auto text = smpp::decode_text(part.data_coding, part.octets, config_.daemon.alphabet);
    Responders one;
    one.push_back(std::move(responder));
    handle_text(*sender, text.ok ? text.utf8 : std::string(), std::move(one));
    return;
  }
  const auto steady = std::chrono::steady_clock::now();
  const std::string key = concat_key(*sender, *part.concatenation);
  auto result = reassembler_.add(*sender, part, steady);
  auto& held = held_[key];
  if (held.responders.empty()) held.since = steady;
  held.responders.push_back(std::move(responder));
  if (result.status == smpp::Reassembler::Status::complete) {
    const auto text = smpp::decode_text(result.data_coding, result.joined(), config_.daemon.alphabet);
    Responders all = std::move(held.responders);
    held_.erase(key);
    handle_text(*sender, text.ok ? text.utf8 : std::string(), std::move(all));
  } else if (result.status == smpp::Reassembler::Status::rejected) {
    log_.warning("mo_part_rejected", {{"from", mask_msisdn(*sender)}});
    for (auto& r : held.responders) ignore(std::move(r), "part not joinable");
    held_.erase(key);
  }
  // pending or duplicate: held until the whole message is handled
}

void Gateway::on_ussd(const smpp::DeliverSm& pdu, const smpp::UssdInfo& info,
                      const std::string& sender, smpp::Responder responder) {
  const auto& u = config_.ussd;
  std::optional<UssdMo::Step> step;
  if (info.op == u.op_begin) step = UssdMo::Step::begin;
  else if (info.op == u.op_continue) step = UssdMo::Step::answer;
  else if (info.op == u.op_abort) step = UssdMo::Step::abort;
  if (!ussd_ || !step) {
    log_.warning("ussd_ignored", {{"from", mask_msisdn(sender)},
                                  {"op", smpp::ussd_op_name(info.op)},
                                  {"reason", ussd_ ? "an operation not in ussd.operations"
                                                   : "USSD is not enabled"}});
    ignore(std::move(responder), "USSD operation not served");  // again would not help
    return;
  }
  const smpp::UserData data = smpp::user_data(pdu);
  const auto text = smpp::decode_text(data.data_coding, data.octets, config_.daemon.alphabet);
  UssdMo mo;
  mo.step = *step;
  mo.key = fmt::format("{}.{}", connection_epoch(), ++mo_sequence_);
  mo.msisdn = sender;
  mo.text = text.ok ? text.utf8 : std::string();
  mo.now = now();
  mo.session_key = info.session_key();
  mo.request_session = smpp::ussd_session_text(info);
  if (info.session)
    mo.fingerprint = mo_fingerprint(
        sender, fmt::format("ussd {} {} {}", *info.session, info.sequence, info.op), mo.text);
  const UssdOutcome out = service_.handle_ussd(mo);
  outbox_dirty_ = true;
  backlog_ += out.messages.size() + 1;
  switch (out.status) {
    case UssdOutcome::Status::failed:
      ++metrics_.mo_failed;
      log_.error("mo_not_committed", {{"from", mask_msisdn(sender)},
                                      {"channel", "ussd"},
                                      {"reason", out.error}});
      answer(std::move(responder), smpp::status::temporary_app_error);
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
  answer(std::move(responder), smpp::status::ok);  // once committed
  work();
}

void Gateway::handle_text(const std::string& sender, const std::string& text,
                          Responders responders) {
  const Time t = now();
  const std::string epoch = connection_epoch();
  Mo mo{fmt::format("{}.{}", epoch, ++mo_sequence_), sender, text, "sms", t,
        mo_fingerprint(sender, config_.daemon.source_addr, text), epoch};
  const MoOutcome out = service_.handle(mo);
  outbox_dirty_ = true;
  backlog_ += out.replies.size();
  switch (out.status) {
    case MoOutcome::Status::failed:
      ++metrics_.mo_failed;
      log_.error("mo_not_committed", {{"from", mask_msisdn(sender)}, {"reason", out.error}});
      for (auto& r : responders) answer(std::move(r), smpp::status::temporary_app_error);
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
  for (auto& r : responders) answer(std::move(r), smpp::status::ok);  // once committed
  work();
}

// The PDUs of one outbound message: its SMS parts, or one USSD screen.
std::vector<smpp::SubmitSm> Gateway::submits_for(const Outbound& m, std::string* why) const {
  std::vector<smpp::SubmitSm> out;
  smpp::SubmitSm base;
  base.source = {config_.daemon.source_ton, config_.daemon.source_npi, config_.daemon.source_addr};
  base.dest = {1, 1, m.msisdn};
  if (m.ussd_op) {
    // The session of the request this screen answers; the end operation
    // also sets the end flag.
    const auto request = smpp::parse_ussd_session_text(m.ussd_session);
    if (!request) {
      *why = "a USSD screen without a readable session";
      return {};
    }
    base.service_type = "USSD";
    base.registered_delivery = smpp::registered::none;  // no receipts for USSD
    smpp::set_ussd(base, *m.ussd_op, *request, *m.ussd_op == config_.ussd.op_end);
    if (!smpp::set_ussd_text(base, m.body, config_.daemon.alphabet)) {
      *why = "a USSD screen that does not fit one PDU";
      return {};
    }
    out.push_back(std::move(base));
    return out;
  }
  smpp::SplitOptions options;
  options.alphabet = config_.daemon.alphabet;
  options.max_parts = 10;
  options.reference = static_cast<std::uint16_t>(m.id);
  std::vector<smpp::MessagePart> parts;
  if (const auto ec = smpp::split(m.body, options, parts); ec || parts.empty()) {
    *why = "cannot split: " + (ec ? ec.message() : std::string("empty"));
    return {};
  }
  for (auto& part : parts) {
    smpp::SubmitSm submit = base;
    submit.registered_delivery = smpp::registered::receipt;
    submit.data_coding = part.data_coding;
    submit.esm_class = part.esm_class;
    submit.short_message = std::move(part.short_message);
    submit.tlvs = std::move(part.tlvs);
    out.push_back(std::move(submit));
  }
  return out;
}

void Gateway::work() {
  if (batch_ && sqlite3_get_autocommit(db_.handle())) {
    // SQLite rolled the batch back by itself (a full disk, an I/O error):
    // what it held is gone, so nothing of it may be acknowledged.
    batch_.reset();
    fail_answers("the batch was rolled back by SQLite");
  }
  if (!batch_) {
    changes_at_begin_ = sqlite3_total_changes(db_.handle());
    batch_.emplace(db_);
    // Busy past the timeout: the work runs in transactions of its own.
    if (!batch_->begun().ok()) batch_.reset();
    if (batch_ && !redo_.empty()) {
      auto again = std::move(redo_);
      redo_.clear();
      for (auto& f : again) record(std::move(f));
    }
  }
  if (!flush_posted_) {
    flush_posted_ = true;
    const auto due = last_commit_ + kCommitGap;
    if (std::chrono::steady_clock::now() >= due) {
      boost::asio::post(io_, [this] { flush(); });
    } else {
      flush_timer_.expires_at(due);
      flush_timer_.async_wait([this](boost::system::error_code) { flush(); });
    }
  }
}

void Gateway::answer(smpp::Responder responder, std::uint32_t status) {
  answers_.emplace_back(std::move(responder), status);
}

void Gateway::record(std::function<void()> f) {
  f();
  if (batch_) records_.push_back(std::move(f));
}

void Gateway::fail_answers(const char* why) {
  // What the SMSC told us (submit answers) is not lost with the batch: it
  // is recorded again in the next one.
  for (auto& f : records_) redo_.push_back(std::move(f));
  records_.clear();
  std::size_t failed = 0;
  for (auto& [r, status] : answers_) {
    if (status == smpp::status::ok) ++failed;
    r.respond(status == smpp::status::ok ? smpp::status::temporary_app_error : status);
  }
  answers_.clear();
  if (failed == 0) return;
  metrics_.mo_failed += failed;
  log_.error("batch_not_committed", {{"answers_refused", failed}, {"reason", why}});
}

void Gateway::flush() {
  if (!flush_posted_) return;  // flushed already (at stop)
  flush_posted_ = false;
  last_commit_ = std::chrono::steady_clock::now();
  if (!waiting_.empty()) admit();
  // Taken and their parts' rows written in this batch: nothing goes out
  // unless the batch that records it commits.
  std::vector<Send> due = prepare(take_due());
  if (batch_) {
    db::Status committed;
    const auto began = std::chrono::steady_clock::now();
    if (sqlite3_get_autocommit(db_.handle())) committed = {1, "the batch was rolled back by SQLite"};
    else committed = batch_->commit();
    if (const auto took = std::chrono::steady_clock::now() - began; took > kSlowCommit)
      log_.warning("slow_commit",
                   {{"ms", std::chrono::duration_cast<std::chrono::milliseconds>(took).count()},
                    {"answers", answers_.size()}});
    batch_.reset();
    if (committed.ok() && sqlite3_total_changes(db_.handle()) != changes_at_begin_) ++metrics_.commits;
    if (!committed.ok()) {
      outbox_dirty_ = true;
      fail_answers(committed.message.c_str());
      // Their state went back to queued with the batch: taken again later.
      due.clear();
    }
  }
  records_.clear();  // committed (or failed, and kept for the next batch)
  for (auto& [r, status] : answers_) r.respond(status);
  answers_.clear();
  send(std::move(due));
}

std::vector<Outbound> Gateway::take_due() {
  if (stopping_ || !link_.bound() || !outbox_dirty_) return {};
  const std::size_t limit = config_.daemon.smsc.window * 2;
  if (in_flight_ >= limit) return {};
  auto due = outbox_.take_due(now(), limit - in_flight_);
  backlog_ -= std::min(backlog_, due.size());
  if (due.size() < limit - in_flight_) {  // took all there was
    outbox_dirty_ = false;
    backlog_ = 0;
  }
  return due;
}

std::vector<Gateway::Send> Gateway::prepare(const std::vector<Outbound>& due) {
  std::vector<Send> out;
  const Time t = now();
  for (const auto& m : due) {
    std::string why;
    auto submits = submits_for(m, &why);
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
    for (int index = 1; index <= total; ++index) {
      if (same_split && std::ranges::find(m.skip_parts, index) != m.skip_parts.end()) continue;
      if (const auto s = outbox_.sending(m.id, m.attempt, index, total, t); !s.ok())
        log_.warning("part_not_recorded", {{"outbox_id", m.id}, {"reason", s.message}});
      out.push_back({m.id, m.attempt, index, total,
                     std::move(submits[static_cast<std::size_t>(index - 1)])});
    }
  }
  return out;
}

void Gateway::send(std::vector<Send> parts) {
  for (auto& p : parts) {
    ++in_flight_;
    link_.submit(std::move(p.submit), [this, id = p.id, attempt = p.attempt, index = p.index,
                                       total = p.total](smpp::SubmitOutcome outcome) {
      boost::asio::post(io_, [this, id, attempt, index, total, outcome = std::move(outcome)] {
        on_submitted(id, attempt, index, total, outcome);
      });
    });
  }
}

void Gateway::on_submitted(std::int64_t id, int attempt, int index, int total,
                           const smpp::SubmitOutcome& outcome) {
  --in_flight_;
  work();
  const Time at = now();
  // What the answer's optional parameters say, for the message's history.
  const std::string detail = smpp::failure_details(outcome.tlvs);
  if (outcome.kind == smpp::SubmitOutcome::Kind::sent) {
    ++metrics_.mt_submitted;
    if (response_ids_.observe(outcome.message_id))
      log_.info("message_ids_learnt", {{"side", "submit_sm_resp"},
                                       {"format", smpp::to_string(response_ids_.format())}});
    const auto readings = response_ids_.read(outcome.message_id);
    record([this, id, attempt, index, total, ids = MessageIds{readings.first, readings.second},
            detail, at] {
      if (!outbox_.submitted(id, attempt, index, total, ids, at, detail).ok())
        log_.error("submit_not_recorded", {{"outbox_id", id}});
    });
    return;
  }
  ++metrics_.mt_submit_failed;
  const bool refused = outcome.kind == smpp::SubmitOutcome::Kind::failed && outcome.command_status;
  std::string why = refused ? fmt::format("submit_sm_resp status 0x{:08X}", outcome.command_status)
                            : fmt::format("{}{}", outcome.error.message(),
                                          outcome.in_doubt ? " (in doubt: may have been sent)" : "");
  if (!detail.empty()) why += " (" + detail + ")";
  log_.warning("submit_failed",
               {{"outbox_id", id}, {"attempt", attempt}, {"part", index}, {"reason", why}});
  const std::int64_t status = refused ? std::int64_t{outcome.command_status} : Outbox::kNoAnswer;
  record([this, id, attempt, index, total, status, why, detail, at] {
    outbox_.submit_failed(id, attempt, index, total, status, why, at, detail);
  });
}

std::string Gateway::metrics_text() {
  std::string out;
  auto line = [&](const std::string& name, const std::string& labels, std::uint64_t value) {
    out += fmt::format("{}{} {}\n", name, labels.empty() ? "" : "{" + labels + "}", value);
  };
  auto help = [&](const char* name, const char* type, const char* text) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, text, name, type);
  };
  help("giftgate_bind_up", "gauge", "1 when bound to the SMSC");
  line("giftgate_bind_up", "", link_.bound() ? 1 : 0);
  help("giftgate_mo_total", "counter", "MOs handled and committed, by command");
  for (const auto& [c, n] : metrics_.mo_by_command) line("giftgate_mo_total", "command=\"" + c + "\"", n);
  help("giftgate_mo_duplicates_total", "counter", "MOs delivered again, recognised");
  line("giftgate_mo_duplicates_total", "", metrics_.mo_duplicates);
  help("giftgate_mo_failed_total", "counter", "MOs and receipts not committed, not acknowledged");
  line("giftgate_mo_failed_total", "", metrics_.mo_failed);
  help("giftgate_mt_submitted_total", "counter", "submit_sm accepted by the SMSC");
  line("giftgate_mt_submitted_total", "", metrics_.mt_submitted);
  help("giftgate_mt_submit_failed_total", "counter", "submit_sm refused or unanswered");
  line("giftgate_mt_submit_failed_total", "", metrics_.mt_submit_failed);
  help("giftgate_resends_total", "counter", "messages submitted again");
  line("giftgate_resends_total", "", metrics_.resends);
  help("giftgate_receipts_total", "counter", "delivery receipts, by state");
  for (const auto& [s, n] : metrics_.receipts_by_state) line("giftgate_receipts_total", "state=\"" + s + "\"", n);
  help("giftgate_receipts_early_total", "counter",
       "receipts that came before their submit_sm_resp, kept until it came");
  line("giftgate_receipts_early_total", "", metrics_.receipts_early);
  help("giftgate_receipts_unmatched_total", "counter",
       "receipts applied to no message, by reason (unclaimed, recipient, ambiguous)");
  for (const auto& [r, n] : metrics_.receipts_unmatched)
    line("giftgate_receipts_unmatched_total", "reason=\"" + r + "\"", n);
  help("giftgate_inbound_ignored_total", "counter",
       "deliver_sm and data_sm acknowledged with nothing the service can use, by reason");
  for (const auto& [r, n] : metrics_.inbound_ignored)
    line("giftgate_inbound_ignored_total", "reason=\"" + r + "\"", n);
  // What the SMPP sessions did with the PDUs the SMSC sent.
  smpp::SessionStats smpp;
  for (const auto& session : {link_.transmitter(), link_.receiver()}) {
    const auto st = session->stats();
    smpp.malformed += st.malformed;
    smpp.refused += st.refused;
    smpp.notifications += st.notifications;
    smpp.unexpected_responses += st.unexpected_responses;
    smpp.tlvs_skipped += st.tlvs_skipped;
    if (link_.transmitter() == link_.receiver()) break;  // a transceiver: one session
  }
  help("giftgate_smpp_pdus_total", "counter",
       "PDUs from the SMSC not handed to the service, by what became of them");
  line("giftgate_smpp_pdus_total", "outcome=\"malformed\"", smpp.malformed);
  line("giftgate_smpp_pdus_total", "outcome=\"refused\"", smpp.refused);
  line("giftgate_smpp_pdus_total", "outcome=\"noted\"", smpp.notifications);
  line("giftgate_smpp_pdus_total", "outcome=\"unexpected_response\"", smpp.unexpected_responses);
  help("giftgate_smpp_tlvs_skipped_total", "counter",
       "optional parameters of tags the gateway does not read, skipped");
  line("giftgate_smpp_tlvs_skipped_total", "", smpp.tlvs_skipped);
  help("giftgate_window_in_use", "gauge", "submits written and not yet answered");
  line("giftgate_window_in_use", "", in_flight_);
  help("giftgate_ussd_screens_total", "counter", "USSD screens shown, by screen");
  for (const auto& [n, v] : metrics_.ussd_screens) line("giftgate_ussd_screens_total", "screen=\"" + n + "\"", v);
  help("giftgate_mo_limited_total", "counter",
       "MOs recorded and not handled, past a limit of the limits section, by limit");
  for (const auto& [l, n] : metrics_.mo_limited) line("giftgate_mo_limited_total", "limit=\"" + l + "\"", n);
  help("giftgate_verify_failures_total", "counter",
       "verifications that did not use a code, counted against the merchant's guard, by merchant");
  for (const auto& [m, n] : metrics_.verify_failures)
    line("giftgate_verify_failures_total", "merchant=\"" + label_value(m) + "\"", n);
  help("giftgate_merchant_lockouts_total", "counter", "merchants locked out of verifying, by merchant");
  for (const auto& [m, n] : metrics_.merchant_lockouts)
    line("giftgate_merchant_lockouts_total", "merchant=\"" + label_value(m) + "\"", n);
  help("giftgate_redemptions_total", "counter", "vouchers sent after a redemption");
  line("giftgate_redemptions_total", "", metrics_.redemptions);
  help("giftgate_verifications_total", "counter", "merchant verifications, by answer");
  for (const auto& [r, n] : metrics_.verifications) line("giftgate_verifications_total", "result=\"" + r + "\"", n);
  help("giftgate_db_commits_total", "counter", "transactions that changed something, each a batch of work");
  line("giftgate_db_commits_total", "", metrics_.commits);
  help("giftgate_mo_waited_total", "counter", "MOs held back while their replies would queue");
  line("giftgate_mo_waited_total", "", metrics_.mo_waited);
  // Not read (the database failed): no gauge, rather than zeros.
  if (const auto c = outbox_.counts()) {
    help("giftgate_outbox_messages", "gauge", "outbound messages by state");
    line("giftgate_outbox_messages", "state=\"queued\"", c->queued);
    line("giftgate_outbox_messages", "state=\"submitted\"", c->submitted);
    line("giftgate_outbox_messages", "state=\"delivered\"", c->delivered);
    line("giftgate_outbox_messages", "state=\"failed\"", c->failed);
    line("giftgate_outbox_messages", "state=\"expired\"", c->expired);
  }
  return out;
}

}  // namespace giftgate
