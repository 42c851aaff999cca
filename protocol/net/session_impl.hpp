// Session::Impl, private to the session's own files: the state of one bind
// and the operations on it. They run on the strand only. The work is split
// by what it serves:
//   session.cpp           the public Session and Responder, construction, stats
//   session_bind.cpp      the connection's life: connect, TLS, bind,
//                         keep-alive, unbind, stop, reconnect
//   session_inbound.cpp   what the SMSC sends: reading, framing, its
//                         requests (deliver_sm and the rest) and its responses
//   session_outbound.cpp  what the ESME sends: submits through the window
//                         and the pacer, writing PDUs, answer deadlines
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "protocol/error.hpp"
#include "protocol/framer.hpp"
#include "protocol/net/pacing.hpp"
#include "protocol/net/read_flow.hpp"
#include "protocol/net/request_tracker.hpp"
#include "protocol/net/session.hpp"
#include "protocol/net/submit_window.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::smpp {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

struct Session::Impl {
  using Request = RequestTracker::Kind;

  Impl(Session& owner, asio::any_io_executor executor, SessionSettings settings,
       log::Logger logger);

  // ------------------------------------------------------------ plumbing

  std::shared_ptr<Session> self() { return owner.shared_from_this(); }

  // Wraps a completion handler so it runs on the strand.
  template <class F>
  auto on_strand(F&& f) {
    return asio::bind_executor(strand, std::forward<F>(f));
  }

  // Calls `f` with the stream of the connection (TLS or plain), if any.
  template <class F>
  void with_stream(F&& f) {
    if (tls) f(*tls);
    else if (socket) f(*socket);
  }

  bool connected() const { return socket || tls; }
  bool stopping() const { return submits.stopped(); }

  // Adds to one counter of the stats.
  template <class Field>
  void count(Field SessionStats::*field, std::uint64_t by = 1) {
    std::lock_guard lock(stats_mutex);
    stats.*field += by;
  }

  // Called by the window before each outcome's handler runs, with the
  // submit already out of the queue or the window.
  void count_outcome(SubmitOutcome::Kind kind);
  // Copies the window's sizes into the stats, so stats() can read them
  // from any thread; called under stats_mutex wherever they change.
  void window_to_stats();
  // window_to_stats() under the lock.
  void publish_window();
  // Why the last connection closed or bind failed, for the status page.
  void note_error(std::string why);

  // ------------------------------------------------ the bind (session_bind.cpp)

  // Moves to `next`, logs it and tells the owner; opens or shuts the
  // window's offers when the owner wants them returned while down.
  void set_state(SessionState next, std::error_code reason = {});
  // A new connection: resolve, then connect (on_resolve).
  void do_connect();
  // Connects to the resolved addresses, then TLS or the bind.
  void on_resolve(const tcp::resolver::results_type& results);
  // The TLS handshake, then the bind.
  void do_handshake();
  // Writes the bind and starts reading.
  void do_bind();
  // Bound, or the refusal handled (unbind first when already bound).
  void on_bind_response(const Pdu& pdu);
  // Fails the connection with `reason` unless the phase ends within `timeout`.
  void arm_phase(std::chrono::milliseconds timeout, errc reason);
  // Closes the connection, settles everything in flight and, unless stopping,
  // schedules the next attempt. `why` says more than `reason` for the
  // status page (the SMSC's status of a refused bind).
  void fail_connection(std::error_code reason, std::string why = {});
  // An enquire_link when nothing came for enquire_link_interval.
  void arm_idle();
  // Writes an unbind; its answer (or timeout) closes with `reason`.
  void begin_unbind(std::error_code reason, std::string why = {});
  // Stopping, and the window empty: the unbind goes now.
  void unbind_when_drained();
  // Session::stop on the strand.
  void stop(std::chrono::milliseconds drain, std::function<void()> done);
  // Everything closed: the state says so and `stop_done` runs.
  void finish_stop();

  // ------------------------------------------ inbound (session_inbound.cpp)

  // One read, unless one is under way or ReadFlow paused reading.
  void do_read();
  // Handles the complete frames read so far, as many as ReadFlow allows.
  void on_read();
  // A PDU longer than max_pdu_length, read past: a request is refused with
  // generic_nack, a response left to its request's timeout.
  void on_oversized(std::span<const std::uint8_t> header_octets);
  // Decodes one frame and hands it on as a request or a response.
  void handle_frame(std::span<const std::uint8_t> frame);
  // Every request the SMSC sends ends in one of: handed to the owner
  // (deliver_sm, data_sm), answered here (enquire_link, unbind), noted
  // (alert_notification and outbind, which SMPP 3.4 gives no response), or
  // refused with an error the SMSC acts on; each is counted.
  void on_request(const Pdu& pdu);
  // The command's own response carrying an error status, or generic_nack
  // for commands without one.
  static Pdu refusal(CommandId request, std::uint32_t sequence, std::uint32_t command_status);
  // A deliver_sm or data_sm to the owner, or answered "later" when it cannot take it.
  void on_inbound(const Pdu& pdu);
  // The deliver_sm_resp or data_sm_resp.
  void write_inbound_response(CommandId response, std::uint32_t seq, std::uint32_t status);
  // A Responder's answer, on the connection it came from only.
  void respond(std::uint64_t gen, CommandId request, std::uint32_t seq, std::uint32_t status);
  // Frames already buffered first; posted, because the caller may be in
  // the middle of answering a batch.
  void resume_reading();
  // A response, to the request it answers.
  void on_response(const Pdu& pdu);

  // ---------------------------------------- outbound (session_outbound.cpp)

  // Session::submit on the strand.
  void enqueue(SubmitSm message, Session::SubmitHandler handler, SubmitPriority priority);
  // Session::set_rate on the strand.
  void set_rate(double rate, double burst);
  // Writes what the window, the rate and any throttling pause allow now,
  // urgent submits first: the window picks at each token, not before.
  void pump();
  // pump() again at `when` (a rate token, or a throttling pause over).
  void arm_send_timer(Clock::time_point when);
  // A submit's answer: its outcome, or back to the queue when throttled.
  void on_submit_response(const Pdu& pdu);
  // Encodes a PDU onto the write queue.
  void write(const Pdu& pdu);
  // Writes the queue, a batch at a time.
  void do_write();
  // A new request, waiting for its answer until `timeout` from now.
  std::uint32_t track_new(Request kind, std::chrono::milliseconds timeout);
  // The timer at the earliest answer's deadline.
  void arm_window_timer();
  // Ends every request whose answer is late.
  void sweep();
  // Whether nothing at all came from the SMSC since `written`: no read
  // completed, none is held back by ReadFlow, and no octet waits in the
  // socket (its read handler may be queued behind this timer's).
  bool silent_since(Clock::time_point written);

  // ------------------------------------------------------------ state

  Session& owner;
  SessionSettings s;
  log::Logger log;
  asio::strand<asio::any_io_executor> strand;
  ssl::context tls_context;
  bool tls_setup_failed = false;
  tcp::resolver resolver;
  std::unique_ptr<tcp::socket> socket;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  asio::steady_timer phase_timer;   // connect, bind or drain deadline
  asio::steady_timer idle_timer;    // enquire_link after idle
  asio::steady_timer window_timer;  // earliest response deadline
  asio::steady_timer send_timer;    // rate limit and throttling pauses
  asio::steady_timer retry_timer;   // reconnect back-off
  bool window_timer_armed = false;
  bool send_timer_armed = false;
  std::uint64_t send_timer_epoch = 0;  // bumped when a wait is abandoned

  Framer framer;
  std::deque<std::vector<std::uint8_t>> out;  // encoded, not yet written; flow bounds it
  bool writing = false;
  bool reading = false;
  std::optional<std::error_code> close_after_flush;

  std::uint64_t generation = 0;  // bumped per connection; stale handlers compare it
  RequestTracker tracker;
  SubmitWindow submits;
  ReadFlow flow;
  SendPacer pacer;
  Backoff reconnect_backoff;
  bool enquire_outstanding = false;
  Clock::time_point last_received{};  // also moved on when an enquire_link is sent
  Clock::time_point last_read{};      // when octets last came from the SMSC

  bool started = false;
  std::error_code unbind_reason;
  std::string unbind_detail;  // for last_error when the unbind ends the connection
  std::function<void()> stop_done;

  Session::InboundHandler inbound_handler;
  Session::StateHandler state_handler;

  mutable std::mutex stats_mutex;
  SessionStats stats;
};

}  // namespace giftgate::smpp
