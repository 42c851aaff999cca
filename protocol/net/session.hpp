// The asynchronous ESME side of one SMPP bind, over TCP or TLS, on Boost.Asio.
//
// A Session connects, binds, keeps the link alive with enquire_link, sends
// submits within a window and a rate, hands inbound deliver_sm / data_sm to
// its owner, and reconnects with back-off whenever the link fails. All its
// work runs on one strand; its public functions may be called from any thread.
//
// The contract for outbound messages: every SubmitSm handed to submit() ends
// in exactly one call of its handler, with one of
//   - sent:     the SMSC accepted it; message_id is the SMSC's id;
//   - failed:   the SMSC refused it (command_status), or the session gave up on
//               it (error); `in_doubt` is set when it had been written to the
//               SMSC and no answer came (response timeout, connection lost,
//               stopped while in flight), so the SMSC may have taken it;
//   - returned: the SMSC does not have it: never written (stopped, queue
//               full), or refused as throttled after stop() began.
// ESME_RTHROTTLED and ESME_RMSGQFUL are not outcomes: the message goes back to
// the front of its queue and the session pauses sending.
//
// Urgent submits (replies, USSD screens) go before bulk ones (pushes): one
// offered while bulk ones wait for a rate token or a window slot is written
// at the next token, ahead of all of them, and bulk ones never take the
// window's last slots (SubmitWindow::bulk_reserve), so an answer never
// waits behind a push backlog.
// Submits not yet written wait across a reconnect, unless
// SessionSettings::return_queued_when_down: then, whenever the connection
// is lost (for any reason), every waiting one (requeued ones included) is
// returned (connection_lost) at once, and one offered while the session is
// not bound is returned (not_bound) at once; written and unanswered ones
// fail in doubt either way.
//
// A dead SMSC is noticed by silence: an enquire_link unanswered within
// response_timeout, or a submit unanswered within response_timeout with
// nothing at all read from the SMSC since it was written, closes the
// connection (peer_silent). A submit that times out while other PDUs still
// arrive fails alone (response_timeout, in doubt).
//
// Inbound messages: the handler gets the PDU and a Responder; the deliver_sm_resp
// (or data_sm_resp) is written only when the Responder is answered, so the
// owner can answer after its database commit. A Responder dropped unanswered
// answers ESME_RX_T_APPN, asking the SMSC to deliver again later.
//
// Every other PDU the SMSC sends ends in one counted outcome (SessionStats):
// enquire_link and unbind answered; alert_notification and outbind noted
// (they have no response); requests this ESME does not serve refused
// (their own response or generic_nack, ESME_RINVCMDID); undecodable PDUs
// nacked (requests) or left to their request's timeout (responses);
// responses to nothing waiting counted. Optional parameters of tags the
// gateway does not read are skipped and counted, never a reason to refuse.
//
// The Session does the I/O (resolve, connect, TLS, read, write, timers) and
// leaves the decisions to socket-free pieces, each tested on its own:
// RequestTracker (sequence numbers, what waits for an answer, what times
// out), SubmitWindow (the urgent and bulk queues, the window, every
// submit's one outcome), SendPacer (rate and throttling pauses) and
// ReadFlow (when reading pauses: too many MOs unanswered, or a full write
// queue). The work is split over session_*.cpp (see session_impl.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "protocol/log.hpp"
#include "protocol/net/settings.hpp"
#include "protocol/net/submit_window.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::smpp {

// The named states of a bind; every transition is logged.
enum class SessionState { connecting, binding, bound, unbinding, closed };
std::string_view to_string(SessionState state);

// Counters for tests, logs and metrics, and the state an operator's status
// page shows; one copy under a lock, cheap enough to take every second.
struct SessionStats {
  std::uint64_t connects = 0;
  std::uint64_t binds = 0;
  std::uint64_t bind_failures = 0;
  std::uint64_t submits_written = 0;
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;
  std::uint64_t returned = 0;
  std::uint64_t throttled = 0;
  std::uint64_t response_timeouts = 0;
  std::uint64_t inbound = 0;               // deliver_sm and data_sm handed to the owner
  std::uint64_t malformed = 0;             // undecodable PDUs (requests are nacked)
  std::uint64_t refused = 0;               // requests this ESME does not serve, refused
  std::uint64_t notifications = 0;         // alert_notification and outbind, noted
  std::uint64_t enquire_links_answered = 0;
  std::uint64_t unexpected_responses = 0;  // for no request waiting, or of the wrong kind
  std::uint64_t tlvs_skipped = 0;          // optional parameters of tags not read
  std::uint64_t enquire_links_sent = 0;
  std::uint64_t peer_silent = 0;           // connections closed as silent (enquire_link or submit)
  std::uint64_t max_window_used = 0;
  std::uint64_t read_pauses = 0;
  std::uint64_t in_flight = 0;             // submits written and unanswered now
  std::uint64_t queued = 0;                // submits waiting to be written now
  std::uint64_t queued_bulk = 0;           // of those, bulk ones (SubmitPriority)
  double rate = 0;                         // submit rate now (0: no limit), after set_rate
  std::chrono::system_clock::time_point bound_since{};  // zero (the epoch) when not bound
  std::string last_error;                  // why the last connection closed or bind failed
};

class Session;

// Answers one inbound deliver_sm or data_sm, once, from any thread.
class Responder {
 public:
  Responder() = default;
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Writes the response with this command_status (0 accepts the message).
  void respond(std::uint32_t command_status = 0);
  bool answered() const { return !session_.lock(); }
  // Answers many at once, as respond() each would, in order: one hand-over
  // to each session's strand instead of one per answer.
  static void respond_all(std::vector<std::pair<Responder, std::uint32_t>>& answers);

 private:
  friend class Session;
  Responder(std::weak_ptr<Session> session, std::uint64_t generation, CommandId command,
            std::uint32_t sequence)
      : session_(std::move(session)), generation_(generation), command_(command),
        sequence_(sequence) {}

  std::weak_ptr<Session> session_;
  std::uint64_t generation_ = 0;
  CommandId command_ = CommandId::deliver_sm;
  std::uint32_t sequence_ = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using SubmitHandler = ::giftgate::smpp::SubmitHandler;
  using InboundHandler = std::function<void(const Pdu&, Responder)>;
  using StateHandler = std::function<void(SessionState, std::error_code)>;

  static std::shared_ptr<Session> create(boost::asio::any_io_executor executor,
                                         SessionSettings settings, log::Logger logger);
  ~Session();

  // Set before start(); called on the session's strand.
  void on_inbound(InboundHandler handler);
  void on_state(StateHandler handler);

  // Connects and binds, and keeps doing so until stop().
  void start();

  // Queues a message; the handler runs exactly once, on the session's strand.
  // An urgent one is written before every bulk one waiting (SubmitWindow).
  void submit(SubmitSm message, SubmitHandler handler,
              SubmitPriority priority = SubmitPriority::urgent);
  // Queues several of one priority, in order, in one hand-over to the strand.
  void submit_all(std::vector<std::pair<SubmitSm, SubmitHandler>> messages,
                  SubmitPriority priority = SubmitPriority::urgent);

  // Submits per second (0: no limit) and burst from now on, e.g. when an
  // account's rate is re-divided between binds; a throttling pause under
  // way, and the back-off of the next, are kept.
  void set_rate(double rate, double burst);

  // Graceful stop: returns queued messages, waits up to `drain` for the
  // window to empty, fails what is still in flight (in doubt), unbinds and
  // closes. `done` runs once everything is closed.
  void stop(std::chrono::milliseconds drain, std::function<void()> done = {});

  SessionState state() const { return state_.load(); }
  SessionStats stats() const;
  const SessionSettings& settings() const;

 private:
  friend class Responder;
  struct Impl;
  Session(boost::asio::any_io_executor executor, SessionSettings settings, log::Logger logger);
  void respond(std::uint64_t generation, CommandId command, std::uint32_t sequence,
               std::uint32_t command_status);

  std::unique_ptr<Impl> impl_;
  std::atomic<SessionState> state_{SessionState::closed};
};

}  // namespace giftgate::smpp
