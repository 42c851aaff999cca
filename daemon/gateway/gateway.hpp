// giftgated's core: wires the SMPP link to the campaign. MOs are reassembled,
// handled by the Service and acknowledged only after their effects are
// committed; receipts go to the outbox; the outbox is pumped into the link
// within the window and rate limits.
//
// Several SMSCs, several binds each (config smscs): every connection is a
// Link of its own, numbered in conns_. MOs and receipts are taken from all
// of them; a receipt is matched by (SMSC, message id), since ids are unique
// per SMSC only. What goes out is spread by Router (router.hpp): each
// connection gets at most two windows' worth at a time, the reply preferring
// the SMSC its MO came from, the rest by room. A connection that goes down
// gets nothing more; what it had in flight ends in one recorded outcome
// (an answer lost is resent at once through a connection still up), what it
// had queued and never wrote goes back to the outbox without using an
// attempt (session setting return_queued_when_down). An SMSC's rate is
// shared by its bound connections and shared again when one comes or goes.
//
// Two threads: the Gateway's own work (the database above all, whose
// commits wait for the disk) runs on one io_context, the SMPP link's sockets
// and PDUs on another executor. What the link hands over is posted to the
// Gateway's context; responses and submits go back through the link's
// thread-safe calls. So reading, answering receipts' PDUs and writing go on
// while a commit waits for its fsync, and each thread has one job.
//
// One MO, start to end (each step names the function):
//   the link's thread reads a deliver_sm and posts it here      receive
//   held back while replies queue, else read as MO or receipt   route
//   an SMS part joined with the others, or a USSD step          on_mo / on_ussd
//   the PDU turned into the service's message (pure)            boundary::sms_mo
//   the service handles it inside the open batch                Service::handle
//   its deliver_sm_resp held until the batch is on disk         GroupCommit::acknowledge
//   the batch commits; its replies taken from the outbox        GroupCommit::commit
//   responses written, replies submitted on the link's thread   send
//   each submit_sm_resp posted back here and recorded           on_submitted
//
// Group commit (group_commit.hpp): everything that arrives in one read
// (MOs, receipts, submit answers) joins one open transaction, committed
// once; only then do the acknowledgements and the submits it took go out.
// One fsync serves a whole burst instead of one each.
//
// Admission: while the replies already queued are more than a few windows'
// worth, new MOs wait unhandled (and unacknowledged, so the SMSC holds back)
// while receipts and submit answers keep flowing. Taking MOs faster than
// their replies can leave only makes every reply later.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "daemon/config/config.hpp"
#include "daemon/console/console.hpp"
#include "daemon/gateway/api.hpp"
#include "daemon/gateway/fair_queue.hpp"
#include "daemon/gateway/group_commit.hpp"
#include "daemon/gateway/metrics.hpp"
#include "daemon/gateway/router.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/pushes.hpp"
#include "daemon/campaign/reminders.hpp"
#include "daemon/campaign/retention.hpp"
#include "daemon/campaign/service.hpp"
#include "protocol/log.hpp"
#include "protocol/reassembly.hpp"
#include "protocol/receipt.hpp"
#include "protocol/net/link.hpp"
#include "protocol/ussd.hpp"

namespace giftgate {

class Gateway {
 public:
  // io: the Gateway's context; net: the executor of the link's sessions
  // (another thread's, or io's own). menus: the USSD screens (null: USSD
  // sessions are not served).
  Gateway(boost::asio::io_context& io, boost::asio::any_io_executor net, Config config,
          db::Database& db,
          std::shared_ptr<const Templates> templates, std::shared_ptr<const UssdMenus> menus,
          log::Logger logger);

  void start();
  // Stops taking work, lets submits in flight finish for the drain time,
  // unbinds, then calls done (on io).
  void stop(std::function<void()> done);
  // SIGHUP: the configuration with a reload's settings (with_reloadable),
  // its templates and menus (null: USSD off). Safe from any thread: posted
  // to io, it lands between two handlers, never inside an MO's.
  void apply_settings(Config next, std::shared_ptr<const Templates> templates,
                      std::shared_ptr<const UssdMenus> menus);

  std::string metrics_text();

  // One HTTP API request (api.hpp), or a console page (a target under
  // /console, console.hpp): safe from any thread (the server's); run on io
  // inside the open batch and answered through `respond` once the batch is
  // on disk, or as busy (503) when it was lost.
  void serve_api(http::Request request, http::Respond respond);
  // Each SMSC and bind, one line each, for giftctl status (GET /status).
  std::string status_text();

 private:
  void serve_console(http::Request request, http::Respond respond);
  void answer_after_commit(http::Response response, http::Respond respond);
  using Responders = std::vector<smpp::Responder>;
  // One connection: a transceiver, or a transmitter and receiver pair, of
  // one SMSC entry, and what the gateway knows of it.
  struct Conn {
    std::size_t smsc = 0;  // index into config_.daemon.smscs
    int bind = 1;          // from 1 within its entry
    std::string name;      // "ID#BIND", in logs and labels
    std::unique_ptr<smpp::Link> link;
    bool bound = false;
    std::uint64_t binds = 0;      // times bound so far: part of its MOs' epoch
    std::size_t in_flight = 0;    // parts handed over and not yet answered
    Time bound_since{};
    // Counters for metrics and giftctl status.
    std::uint64_t submitted = 0, submit_failed = 0, returned = 0, in_doubt = 0;
    std::uint64_t receipts = 0, mos = 0;
    // For the rates in status: the counters at the last two samples.
    struct Sample {
      std::chrono::steady_clock::time_point at{};
      std::uint64_t submitted = 0, receipts = 0, mos = 0;
    };
    Sample last, before;
  };
  // What the gateway keeps per SMSC entry: ids are written its own way.
  struct SmscState {
    smpp::IdFormatLearner response_ids;
    smpp::IdFormatLearner receipt_ids;
  };

  // One Conn per bind of every SMSC entry (gateway_smscs.cpp).
  void open_connections(boost::asio::any_io_executor net);
  // A connection came up or went down (posted from its thread).
  void on_link_state(std::size_t conn, bool now_bound);
  // Why the connection last closed or failed to bind, in its sessions'
  // words (the transmitter's, else the receiver's); empty: never.
  std::string last_error(const Conn& c) const;
  // Shares an SMSC's rate between its connections that are bound.
  void share_rate(std::size_t smsc);
  // How many parts a connection may be handed at a time: two windows, so
  // the next is ready when answers come, and a dead one strands little.
  std::size_t room_of(const Conn& c) const;
  const SmscEntry& entry(const Conn& c) const { return config_.daemon.smscs[c.smsc]; }
  // The metric labels of a connection: smsc="ID",bind="N", then `more`.
  std::string conn_labels(const Conn& c, std::string_view more = {}) const;
  // A message id as this SMSC writes it on one side (receipts or
  // submit_sm_resp), learning its format; logged once it is learnt.
  smpp::IdReadings read_id(const Conn& c, smpp::IdFormatLearner& learner, std::string_view side,
                           std::string_view raw);
  // A PDU from the link: handled now, or held back (admission).
  void receive(std::size_t conn, const smpp::Pdu& pdu, smpp::Responder responder);
  // A deliver_sm or data_sm to the receipt or MO path.
  void route(std::size_t conn, const smpp::Pdu& pdu, smpp::Responder responder);
  // Handles waiting MOs while the outbox has room (or too many wait).
  void admit();
  std::size_t backlog_limit() const;
  void on_receipt(std::size_t conn, const smpp::DeliverSm& pdu,
                  const smpp::DeliveryReceipt& receipt, smpp::Responder responder);
  // Acknowledges what the service cannot use and asking again would not
  // change (a sender that is no number, an unreadable receipt): logged and
  // counted by reason, never silently.
  void ignore(smpp::Responder responder, const std::string& reason);
  void on_mo(std::size_t conn, const smpp::DeliverSm& mo, smpp::Responder responder);
  void on_ussd(std::size_t conn, const smpp::DeliverSm& mo, const smpp::UssdInfo& info,
               const std::string& sender, smpp::Responder responder);
  // A whole text (one SMS, or the parts joined) to the service.
  void handle_sms(std::size_t conn, const std::string& sender, std::string text,
                  Responders responders);
  // What the gateway does around each commit (see GroupCommit::Hooks).
  GroupCommit<smpp::Responder>::Hooks batch_hooks();
  void schedule_commit(std::chrono::steady_clock::time_point at, std::function<void()> run);
  std::vector<Outbound> take_due();
  // One part of an outbound message, ready to go on one connection.
  struct Send {
    std::size_t conn = 0;
    std::int64_t id = 0;
    int attempt = 0, index = 0, total = 0;
    smpp::SubmitSm submit;
    // Bulk for a push (kPriorityBulk), so that it goes after every answer.
    smpp::SubmitPriority priority = smpp::SubmitPriority::urgent;
  };
  // The PDUs of what take_due took, minus the parts an earlier attempt got
  // through, each on the connection Router picked; each part's row is
  // written (in the open batch) before it goes.
  std::vector<Send> prepare(const std::vector<Outbound>& due);
  void send(std::vector<Send> parts);
  void on_submitted(std::size_t conn, std::int64_t id, int attempt, int index, int total,
                    const smpp::SubmitOutcome& outcome);
  void tick();
  void sample_rates(std::chrono::steady_clock::time_point now);
  // Retention (daemon/campaign/retention.hpp): every batch_interval, one
  // prune batch and, once an hour, the day's size sample, only while
  // quiet() (never inside the open batch, never with work waiting).
  void prune_when_quiet();
  bool quiet() const;
  // Pushes and reminders (gateway_pushes.cpp): a step each time the batch
  // is idle; bulk gets at most one window per bound connection and none in
  // the quiet hours.
  void push_step();
  // A few turns of a push that is sending, inside the batch about to commit.
  void push_turns_in_batch();
  // Logs what a step started and finished; whether it queued anything.
  bool after_push_step(const Pushes::Step& step);
  bool quiet_hours() const;
  std::size_t bulk_room() const;
  Time now() const;
  // This process and connection: MO keys start with it, and a repeat from
  // an earlier one may be a redelivery.
  std::string connection_epoch(const Conn& c) const;

  boost::asio::io_context& io_;
  Config config_;
  db::Database& db_;
  log::Logger log_;
  Service service_;
  Outbox outbox_;
  std::vector<Conn> conns_;
  std::vector<SmscState> smscs_;  // as config_.daemon.smscs
  Router router_;
  smpp::Reassembler reassembler_;
  struct Held {
    Responders responders;
    std::chrono::steady_clock::time_point since;
  };
  std::map<std::string, Held> held_;  // parts of concatenated MOs, answered when whole
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_sweep_{};
  std::chrono::steady_clock::time_point last_rates_{};
  std::size_t in_flight_ = 0;  // over every connection
  boost::asio::steady_timer commit_timer_;
  SqliteBatchStore store_;
  GroupCommit<smpp::Responder> batch_;
  std::vector<Send> to_send_;  // taken in the batch being committed
  // Something may be due in the outbox: a reply queued, a tick passed, a
  // batch rolled back. Saves the query when nothing can be.
  bool outbox_dirty_ = true;
  struct Waiting {
    std::size_t conn;
    smpp::Pdu pdu;
    smpp::Responder responder;
  };
  FairQueue<Waiting> waiting_;  // MOs read, not yet handled: in turns between senders
  std::size_t backlog_ = 0;      // replies queued and not yet taken (an estimate)
  bool ussd_ = false;           // menus loaded and ussd.enabled
  std::string process_epoch_;   // this process: start time and pid
  std::uint64_t mo_sequence_ = 0;
  bool stopping_ = false;
  Metrics metrics_;
  Retention retention_;
  boost::asio::steady_timer retention_timer_;
  std::chrono::steady_clock::time_point last_size_sample_{};
  std::chrono::steady_clock::time_point last_prune_summary_{};
  std::chrono::steady_clock::time_point last_web_prune_{};
  std::array<std::int64_t, kPruneKindCount> pruned_since_summary_{};
  Pushes pushes_;
  Reminders reminders_;
  std::chrono::steady_clock::time_point last_reminders_{};
  boost::asio::steady_timer push_timer_;
  std::chrono::steady_clock::time_point last_push_step_{};
  std::chrono::steady_clock::time_point last_push_counts_{};
  bool push_sending_ = false;  // the last step found a push selecting or sending
  // When a member's MO (or USSD step) last came: while they keep coming, a
  // push's steps stay small, so no answer waits behind a long one.
  std::chrono::steady_clock::time_point last_mo_{};
  std::vector<std::pair<std::string, PushMessages>> push_counts_;  // for the metrics
  Api api_;
  console::Console console_;
  // Where the console's sign-ins check passwords (a slow KDF, on purpose):
  // never on the gateway's thread, which would hold every MO up behind it.
  // Last, so it is joined first.
  boost::asio::thread_pool kdf_{1};
};

}  // namespace giftgate
