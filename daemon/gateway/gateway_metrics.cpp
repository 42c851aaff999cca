// What the gateway counts, as Prometheus text (GET /metrics).
#include <fmt/format.h>

#include "daemon/campaign/database_size.hpp"
#include "daemon/gateway/gateway.hpp"

namespace giftgate {

std::string Gateway::conn_labels(const Conn& c, std::string_view more) const {
  return fmt::format("smsc=\"{}\",bind=\"{}\"{}{}", label_value(entry(c).id), c.bind,
                     more.empty() ? "" : ",", more);
}

std::string Gateway::metrics_text() {
  std::string out;
  auto line = [&](const std::string& name, const std::string& labels, std::uint64_t value) {
    out += fmt::format("{}{} {}\n", name, labels.empty() ? "" : "{" + labels + "}", value);
  };
  auto help = [&](const char* name, const char* type, const char* text) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, text, name, type);
  };
  // Each push under way (or ended within a day), as the push step last read it.
  help("giftgate_push_messages", "gauge",
       "a push's messages: queued, submitted (awaiting receipts), delivered, failed, expired "
       "now, and sent (ever left the queue), by push");
  for (const auto& [name, m] : push_counts_) {
    const auto push = fmt::format("push=\"{}\"", name);
    for (const auto& [state, n] : {std::pair<const char*, std::int64_t>{"queued", m.queued},
                                   {"submitted", m.submitted},
                                   {"delivered", m.delivered},
                                   {"failed", m.failed},
                                   {"expired", m.expired},
                                   {"sent", m.sent}})
      line("giftgate_push_messages", fmt::format("{},state=\"{}\"", push, state),
           static_cast<std::uint64_t>(std::max<std::int64_t>(0, n)));
  }
  // Each connection to each SMSC.
  help("giftgate_bind_up", "gauge", "1 while the connection is bound, by SMSC and bind");
  for (const auto& c : conns_) line("giftgate_bind_up", conn_labels(c), c.bound ? 1 : 0);
  help("giftgate_bind_window_in_use", "gauge",
       "parts handed to the connection and not yet answered, by SMSC and bind");
  for (const auto& c : conns_) line("giftgate_bind_window_in_use", conn_labels(c), c.in_flight);
  help("giftgate_bind_submits_total", "counter",
       "parts submitted through the connection, by outcome: sent (accepted), failed (refused or "
       "unanswered), returned (never written, back to the outbox)");
  for (const auto& c : conns_) {
    line("giftgate_bind_submits_total", conn_labels(c, "outcome=\"sent\""), c.submitted);
    line("giftgate_bind_submits_total", conn_labels(c, "outcome=\"failed\""), c.submit_failed);
    line("giftgate_bind_submits_total", conn_labels(c, "outcome=\"returned\""), c.returned);
  }
  help("giftgate_bind_submits_in_doubt_total", "counter",
       "of the failed, those written with no answer: the SMSC may have taken them");
  for (const auto& c : conns_) line("giftgate_bind_submits_in_doubt_total", conn_labels(c), c.in_doubt);
  help("giftgate_bind_receipts_total", "counter", "delivery receipts read on the connection");
  for (const auto& c : conns_) line("giftgate_bind_receipts_total", conn_labels(c), c.receipts);
  help("giftgate_bind_mo_total", "counter", "MOs read on the connection (USSD steps included)");
  for (const auto& c : conns_) line("giftgate_bind_mo_total", conn_labels(c), c.mos);
  help("giftgate_bind_throttled_total", "counter",
       "submits the SMSC refused as throttled (ESME_RTHROTTLED, MSGQFUL) on the connection");
  for (const auto& c : conns_) line("giftgate_bind_throttled_total", conn_labels(c), c.link->transmitter()->stats().throttled);
  help("giftgate_bind_connects_total", "counter", "binds made on the connection");
  for (const auto& c : conns_) line("giftgate_bind_connects_total", conn_labels(c), c.binds);
  help("giftgate_mo_total", "counter", "MOs handled and committed, by command");
  for (const auto& [c, n] : metrics_.mo_by_command) line("giftgate_mo_total", "command=\"" + c + "\"", n);
  help("giftgate_mo_duplicates_total", "counter", "MOs delivered again, recognised");
  line("giftgate_mo_duplicates_total", "", metrics_.mo_duplicates);
  help("giftgate_mo_failed_total", "counter", "MOs and receipts not committed, not acknowledged");
  line("giftgate_mo_failed_total", "", metrics_.mo_failed + batch_.refused());
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
  for (const auto& c : conns_)
    for (const auto& session : {c.link->transmitter(), c.link->receiver()}) {
      const auto st = session->stats();
      smpp.malformed += st.malformed;
      smpp.refused += st.refused;
      smpp.notifications += st.notifications;
      smpp.unexpected_responses += st.unexpected_responses;
      smpp.tlvs_skipped += st.tlvs_skipped;
      if (c.link->transmitter() == c.link->receiver()) break;  // a transceiver: one session
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
  help("giftgate_window_in_use", "gauge", "parts handed to the connections and not yet answered");
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
  line("giftgate_db_commits_total", "", batch_.commits());
  help("giftgate_mo_waited_total", "counter", "MOs held back while their replies would queue");
  line("giftgate_mo_waited_total", "", metrics_.mo_waited);
  help("giftgate_rows_pruned_total", "counter", "rows pruned by retention, by kind");
  for (const auto kind : kPruneKinds) {
    const std::string name(prune_kind_name(kind));
    const auto it = metrics_.rows_pruned.find(name);
    line("giftgate_rows_pruned_total", "kind=\"" + name + "\"",
         it == metrics_.rows_pruned.end() ? 0 : it->second);
  }
  // Not read (the database failed): no gauge, rather than zeros.
  if (const auto size = measure_database(db_)) {
    help("giftgate_db_bytes", "gauge", "the database file: pages in use and free");
    line("giftgate_db_bytes", "", size->bytes);
    help("giftgate_db_free_bytes", "gauge", "of which free pages, reused before the file grows");
    line("giftgate_db_free_bytes", "", size->free_bytes);
    help("giftgate_db_wal_bytes", "gauge", "the write-ahead log file");
    line("giftgate_db_wal_bytes", "", size->wal_bytes);
  }
  // No backup recorded: no gauge (an age of 0 would read as "just now").
  if (const auto finished = last_backup_finished(db_)) {
    help("giftgate_backup_age_seconds", "gauge",
         "seconds since the newest checked backup (giftctl backup) finished");
    line("giftgate_backup_age_seconds", "",
         static_cast<std::uint64_t>(std::max<std::int64_t>(0, (now() - *finished).count())));
  }
  if (const auto c = outbox_.counts()) {
    help("giftgate_outbox_messages", "gauge", "outbound messages by state");
    line("giftgate_outbox_messages", "state=\"queued\"", c->queued);
    line("giftgate_outbox_messages", "state=\"submitted\"", c->submitted);
    line("giftgate_outbox_messages", "state=\"delivered\"", c->delivered);
    line("giftgate_outbox_messages", "state=\"failed\"", c->failed);
    line("giftgate_outbox_messages", "state=\"expired\"", c->expired);
  }
  out += api_.metrics_text();
  return out;
}

void Gateway::sample_rates(std::chrono::steady_clock::time_point now) {
  last_rates_ = now;
  for (auto& c : conns_) {
    c.before = c.last;
    c.last = {now, c.submitted, c.receipts, c.mos};
  }
}

std::string Gateway::status_text() {
  std::size_t up = 0;
  for (const auto& c : conns_) up += c.bound ? 1 : 0;
  std::string out = fmt::format("{} connection(s) to {} SMSC(s), {} bound; {} part(s) in flight\n",
                                conns_.size(), smscs_.size(), up, in_flight_);
  out += fmt::format("{:<12} {:>4}  {:<22} {:<20} {:>9} {:>8} {:>9} {:>10} {:>7} {:>10} {:>7} {:>8}  {}\n",
                     "SMSC", "BIND", "STATE", "BOUND SINCE", "WINDOW", "RATE/S", "SUBMIT/S",
                     "RECEIPT/S", "MO/S", "SUBMITTED", "FAILED", "IN DOUBT", "LAST ERROR");
  for (const auto& c : conns_) {
    const SmscEntry& e = entry(c);
    const auto tx = c.link->transmitter()->state();
    const auto rx = c.link->receiver()->state();
    const std::string state = tx == rx ? std::string(smpp::to_string(tx))
                                       : fmt::format("tx {}, rx {}", smpp::to_string(tx),
                                                     smpp::to_string(rx));
    // The share the session sends at now (set_rate: the SMSC's rate over
    // its connections bound).
    const double share = c.link->transmitter()->stats().rate;
    const std::string rate = share <= 0 ? "-" : fmt::format("{:.0f}", share);
    const std::string why = last_error(c);  // with the SMSC's status, where it gave one
    // Over the last whole spell between two samples (tick: every 5 s).
    const double spell = std::chrono::duration<double>(c.last.at - c.before.at).count();
    const auto per_second = [&](std::uint64_t later, std::uint64_t earlier) {
      return spell > 0 && c.before.at.time_since_epoch().count() != 0
                 ? fmt::format("{:.1f}", static_cast<double>(later - earlier) / spell)
                 : std::string("-");
    };
    out += fmt::format(
        "{:<12} {:>4}  {:<22} {:<20} {:>9} {:>8} {:>9} {:>10} {:>7} {:>10} {:>7} {:>8}  {}\n", e.id,
        c.bind, state, c.bound ? iso_time(c.bound_since) : "-",
        fmt::format("{}/{}", c.in_flight, e.session.window), rate,
        per_second(c.last.submitted, c.before.submitted),
        per_second(c.last.receipts, c.before.receipts), per_second(c.last.mos, c.before.mos),
        c.submitted, c.submit_failed, c.in_doubt, why.empty() ? "-" : why);
  }
  return out;
}

}  // namespace giftgate
