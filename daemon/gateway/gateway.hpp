// giftgated's core: wires the SMPP link to the campaign. MOs are reassembled,
// handled by the Service and acknowledged only after their effects are
// committed; receipts go to the outbox; the outbox is pumped into the link
// within the window and rate limits.
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

#include "daemon/config/config.hpp"
#include "daemon/gateway/fair_queue.hpp"
#include "daemon/gateway/group_commit.hpp"
#include "daemon/gateway/metrics.hpp"
#include "daemon/campaign/outbox.hpp"
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

 private:
  using Responders = std::vector<smpp::Responder>;
  // A PDU from the link: handled now, or held back (admission).
  void receive(const smpp::Pdu& pdu, smpp::Responder responder);
  // A deliver_sm or data_sm to the receipt or MO path.
  void route(const smpp::Pdu& pdu, smpp::Responder responder);
  // Handles waiting MOs while the outbox has room (or too many wait).
  void admit();
  std::size_t backlog_limit() const { return config_.daemon.smsc.session.window * 4; }
  void on_receipt(const smpp::DeliverSm& pdu, const smpp::DeliveryReceipt& receipt,
                  smpp::Responder responder);
  // Acknowledges what the service cannot use and asking again would not
  // change (a sender that is no number, an unreadable receipt): logged and
  // counted by reason, never silently.
  void ignore(smpp::Responder responder, const std::string& reason);
  void on_mo(const smpp::DeliverSm& mo, smpp::Responder responder);
  void on_ussd(const smpp::DeliverSm& mo, const smpp::UssdInfo& info, const std::string& sender,
               smpp::Responder responder);
  // A whole text (one SMS, or the parts joined) to the service.
  void handle_sms(const std::string& sender, std::string text, Responders responders);
  // What the gateway does around each commit (see GroupCommit::Hooks).
  GroupCommit<smpp::Responder>::Hooks batch_hooks();
  void schedule_commit(std::chrono::steady_clock::time_point at, std::function<void()> run);
  std::vector<Outbound> take_due();
  // One part of an outbound message, ready to go.
  struct Send {
    std::int64_t id = 0;
    int attempt = 0, index = 0, total = 0;
    smpp::SubmitSm submit;
  };
  // The PDUs of what take_due took, minus the parts an earlier attempt got
  // through; each part's row is written (in the open batch) before it goes.
  std::vector<Send> prepare(const std::vector<Outbound>& due);
  void send(std::vector<Send> parts);
  void on_submitted(std::int64_t id, int attempt, int index, int total,
                    const smpp::SubmitOutcome& outcome);
  void tick();
  // Retention (daemon/campaign/retention.hpp): every batch_interval, one
  // prune batch and, once an hour, the day's size sample, only while
  // quiet() (never inside the open batch, never with work waiting).
  void prune_when_quiet();
  bool quiet() const;
  Time now() const;
  // This process and bind: MO keys start with it, and a repeat from an
  // earlier one may be a redelivery.
  std::string connection_epoch() const;

  boost::asio::io_context& io_;
  Config config_;
  db::Database& db_;
  log::Logger log_;
  Service service_;
  Outbox outbox_;
  smpp::Link link_;
  smpp::Reassembler reassembler_;
  struct Held {
    Responders responders;
    std::chrono::steady_clock::time_point since;
  };
  std::map<std::string, Held> held_;  // parts of concatenated MOs, answered when whole
  // How this SMSC writes message ids, learnt from its answers when
  // configured auto (see smpp::IdFormatLearner).
  smpp::IdFormatLearner response_ids_;
  smpp::IdFormatLearner receipt_ids_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_sweep_{};
  std::size_t in_flight_ = 0;
  boost::asio::steady_timer commit_timer_;
  SqliteBatchStore store_;
  GroupCommit<smpp::Responder> batch_;
  std::vector<Send> to_send_;  // taken in the batch being committed
  // Something may be due in the outbox: a reply queued, a tick passed, a
  // batch rolled back. Saves the query when nothing can be.
  bool outbox_dirty_ = true;
  struct Waiting {
    smpp::Pdu pdu;
    smpp::Responder responder;
  };
  FairQueue<Waiting> waiting_;  // MOs read, not yet handled: in turns between senders
  std::size_t backlog_ = 0;      // replies queued and not yet taken (an estimate)
  bool ussd_ = false;           // menus loaded and ussd.enabled
  std::string process_epoch_;   // this process: start time and pid
  std::uint64_t binds_ = 0;     // connections bound so far
  std::uint64_t mo_sequence_ = 0;
  bool stopping_ = false;
  bool bound_ = false;
  Metrics metrics_;
  Retention retention_;
  boost::asio::steady_timer retention_timer_;
  std::chrono::steady_clock::time_point last_size_sample_{};
  std::chrono::steady_clock::time_point last_prune_summary_{};
  std::array<std::int64_t, kPruneKindCount> pruned_since_summary_{};
};

}  // namespace giftgate
