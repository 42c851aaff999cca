// The public Session and Responder, the construction of Session::Impl and
// its counters; the work itself is in session_bind.cpp, session_inbound.cpp
// and session_outbound.cpp (see session_impl.hpp).
#include "protocol/net/session.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/post.hpp>

#include "protocol/net/session_impl.hpp"
#include "protocol/net/tls.hpp"

namespace giftgate::smpp {

std::string_view to_string(SessionState state) {
  switch (state) {
    case SessionState::connecting: return "connecting";
    case SessionState::binding: return "binding";
    case SessionState::bound: return "bound";
    case SessionState::unbinding: return "unbinding";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

namespace {

std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

}  // namespace

Session::Impl::Impl(Session& owner, asio::any_io_executor executor, SessionSettings settings,
                    log::Logger logger)
    : owner(owner),
      s(std::move(settings)),
      log(logger.child({{"smsc", s.name}, {"bind", std::string(to_string(s.bind))}})),
      strand(asio::make_strand(executor)),
      tls_context(ssl::context::tls_client),
      resolver(strand),
      phase_timer(strand),
      idle_timer(strand),
      window_timer(strand),
      send_timer(strand),
      retry_timer(strand),
      framer(s.max_pdu_length),
      tracker(s.bind, s.first_sequence),
      submits({std::max<std::size_t>(s.window, 1), s.max_queue, s.bind != BindKind::receiver},
              [this](SubmitOutcome::Kind kind) { count_outcome(kind); }),
      flow(s.max_inbound_pending,
           ReadFlow::write_queue_bound(std::max<std::size_t>(s.window, 1),
                                       std::max<std::size_t>(s.max_inbound_pending, 1))),
      pacer(s.rate, std::max(1.0, s.burst), s.throttle_pause, s.throttle_pause_max,
            random_seed(), Clock::now()),
      reconnect_backoff(s.reconnect_min, s.reconnect_max, s.reconnect_jitter, random_seed()) {
  s.window = std::max<std::size_t>(s.window, 1);
  s.max_inbound_pending = std::max<std::size_t>(s.max_inbound_pending, 1);
  tls_setup_failed = s.tls.enabled && !configure_tls_context(tls_context, s, log);
  stats.rate = std::max(s.rate, 0.0);
  // Not bound yet: with return_queued_when_down nothing waits for the bind.
  if (s.return_queued_when_down) submits.refuse_offers(make_error_code(errc::not_bound));
}

void Session::Impl::count_outcome(SubmitOutcome::Kind kind) {
  std::lock_guard lock(stats_mutex);
  switch (kind) {
    case SubmitOutcome::Kind::sent: ++stats.sent; break;
    case SubmitOutcome::Kind::failed: ++stats.failed; break;
    case SubmitOutcome::Kind::returned: ++stats.returned; break;
  }
  window_to_stats();
}

void Session::Impl::window_to_stats() {
  stats.in_flight = submits.in_flight();
  stats.queued = submits.queued();
  stats.queued_bulk = submits.queued_bulk();
}

void Session::Impl::publish_window() {
  std::lock_guard lock(stats_mutex);
  window_to_stats();
}

void Session::Impl::note_error(std::string why) {
  std::lock_guard lock(stats_mutex);
  stats.last_error = std::move(why);
}

// ---------------------------------------------------------------- Session

Session::Session(asio::any_io_executor executor, SessionSettings settings, log::Logger logger)
    : impl_(std::make_unique<Impl>(*this, std::move(executor), std::move(settings),
                                   std::move(logger))) {}

Session::~Session() = default;

std::shared_ptr<Session> Session::create(asio::any_io_executor executor,
                                         SessionSettings settings, log::Logger logger) {
  return std::shared_ptr<Session>(
      new Session(std::move(executor), std::move(settings), std::move(logger)));
}

void Session::on_inbound(InboundHandler handler) {
  asio::post(impl_->strand, [self = shared_from_this(), h = std::move(handler)]() mutable {
    self->impl_->inbound_handler = std::move(h);
  });
}

void Session::on_state(StateHandler handler) {
  asio::post(impl_->strand, [self = shared_from_this(), h = std::move(handler)]() mutable {
    self->impl_->state_handler = std::move(h);
  });
}

void Session::start() {
  asio::post(impl_->strand, [self = shared_from_this()] {
    auto& impl = *self->impl_;
    if (impl.started || impl.stopping()) return;
    impl.started = true;
    impl.do_connect();
  });
}

void Session::submit(SubmitSm message, SubmitHandler handler, SubmitPriority priority) {
  asio::post(impl_->strand, [self = shared_from_this(), m = std::move(message),
                             h = std::move(handler), priority]() mutable {
    self->impl_->enqueue(std::move(m), std::move(h), priority);
  });
}

void Session::submit_all(std::vector<std::pair<SubmitSm, SubmitHandler>> messages,
                         SubmitPriority priority) {
  if (messages.empty()) return;
  asio::post(impl_->strand,
             [self = shared_from_this(), m = std::move(messages), priority]() mutable {
               for (auto& [message, handler] : m)
                 self->impl_->enqueue(std::move(message), std::move(handler), priority);
             });
}

void Session::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  asio::post(impl_->strand, [self = shared_from_this(), drain, d = std::move(done)]() mutable {
    self->impl_->stop(drain, std::move(d));
  });
}

void Session::set_rate(double rate, double burst) {
  asio::post(impl_->strand, [self = shared_from_this(), rate, burst] {
    self->impl_->set_rate(rate, burst);
  });
}

SessionStats Session::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

const SessionSettings& Session::settings() const { return impl_->s; }

void Session::respond(std::uint64_t generation, CommandId command, std::uint32_t sequence,
                      std::uint32_t command_status) {
  asio::post(impl_->strand, [self = shared_from_this(), generation, command, sequence,
                             command_status] {
    self->impl_->respond(generation, command, sequence, command_status);
  });
}

// ---------------------------------------------------------------- Responder

void Responder::respond_all(std::vector<std::pair<Responder, std::uint32_t>>& answers) {
  struct Answer {
    std::uint64_t generation;
    CommandId command;
    std::uint32_t sequence;
    std::uint32_t status;
  };
  // Grouped by session, each group in its order; almost always one group.
  std::vector<std::pair<std::shared_ptr<Session>, std::vector<Answer>>> groups;
  for (auto& [r, status] : answers) {
    auto session = r.session_.lock();
    if (!session) continue;
    r.session_.reset();
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == session; });
    if (it == groups.end()) it = groups.insert(groups.end(), {session, {}});
    it->second.push_back({r.generation_, r.command_, r.sequence_, status});
  }
  answers.clear();
  for (auto& [session, list] : groups) {
    auto& strand = session->impl_->strand;
    asio::post(strand, [self = std::move(session), list = std::move(list)] {
      for (const auto& a : list)
        self->impl_->respond(a.generation, a.command, a.sequence, a.status);
    });
  }
}

Responder::Responder(Responder&& other) noexcept
    : session_(std::move(other.session_)), generation_(other.generation_),
      command_(other.command_), sequence_(other.sequence_) {
  other.session_.reset();
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (session_.lock()) respond(status::temporary_app_error);
    session_ = std::move(other.session_);
    other.session_.reset();
    generation_ = other.generation_;
    command_ = other.command_;
    sequence_ = other.sequence_;
  }
  return *this;
}

Responder::~Responder() {
  if (session_.lock()) respond(status::temporary_app_error);
}

void Responder::respond(std::uint32_t command_status) {
  if (auto session = session_.lock()) {
    session_.reset();
    session->respond(generation_, command_, sequence_, command_status);
  }
}

}  // namespace giftgate::smpp
