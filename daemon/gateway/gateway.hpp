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
// Group commit: everything that arrives in one read (MOs, receipts, submit
// answers) joins one open transaction, which a posted flush commits once;
// only then do the acknowledgements and the submits it took go out. One
// fsync serves a whole burst instead of one each.
//
// Admission: while the replies already queued are more than a few windows'
// worth, new MOs wait unhandled (and unacknowledged, so the SMSC holds back)
// while receipts and submit answers keep flowing. Taking MOs faster than
// their replies can leave only makes every reply later.
#pragma once

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
#include "daemon/gateway/metrics.hpp"
#include "daemon/campaign/outbox.hpp"
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
  // SIGHUP: new templates, menus and keywords (the rest needs a restart).
  void reload(const Config& fresh, std::shared_ptr<const Templates> templates,
              std::shared_ptr<const UssdMenus> menus);

  std::string metrics_text();

 private:
  using Responders = std::vector<smpp::Responder>;
  void on_inbound(const smpp::Pdu& pdu, smpp::Responder responder);
  void dispatch(const smpp::Pdu& pdu, smpp::Responder responder);
  // Handles waiting MOs while the outbox has room (or too many wait).
  void admit();
  std::size_t backlog_limit() const { return config_.daemon.smsc.window * 4; }
  void on_receipt(const smpp::DeliverSm& pdu, const smpp::DeliveryReceipt& receipt,
                  smpp::Responder responder);
  // Acknowledges what the service cannot use and asking again would not
  // change (a sender that is no number, an unreadable receipt): logged and
  // counted by reason, never silently.
  void ignore(smpp::Responder responder, const std::string& reason);
  void on_mo(const smpp::DeliverSm& mo, smpp::Responder responder);
  void on_ussd(const smpp::DeliverSm& mo, const smpp::UssdInfo& info, const std::string& sender,
               smpp::Responder responder);
  void handle_text(const std::string& sender, const std::string& text, Responders responders);
  // Joins the open batch (opening it, and posting its flush, if none is).
  void work();
  // An acknowledgement that waits for the batch's commit.
  void answer(smpp::Responder responder, std::uint32_t status);
  // Commits the batch, then acknowledges and sends what it took.
  void flush();
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
  void fail_answers(const char* why);
  // Runs f in the batch and keeps it until the batch commits: a batch that
  // fails has it run again in the next one.
  void record(std::function<void()> f);
  std::vector<smpp::SubmitSm> submits_for(const Outbound& m, std::string* why) const;
  void tick();
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
  std::optional<db::Transaction> batch_;
  std::vector<std::pair<smpp::Responder, std::uint32_t>> answers_;
  bool flush_posted_ = false;
  std::vector<std::function<void()>> records_;  // submit answers in the open batch
  std::vector<std::function<void()>> redo_;     // ... from a batch that failed
  boost::asio::steady_timer flush_timer_;
  std::chrono::steady_clock::time_point last_commit_{};
  int changes_at_begin_ = 0;  // rows changed before the batch: an empty one is not counted
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
};

}  // namespace giftgate
