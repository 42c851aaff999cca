// giftgate-apiload: merchant terminals verifying voucher codes over the HTTP
// API at a fixed rate (scripts/bench-api.sh), for the API's figures beside
// the SMS traffic of giftgate-loadgen.
//
//   giftgate-apiload run --port P --key KEY --codes FILE [--host 127.0.0.1]
//                        [--rate N] [--seconds S] [--warmup S]
//                        [--connections C] [--settle S]
//       POST /v1/verifications {"code": ...} over C keep-alive HTTP/1.1
//       connections (plain HTTP: the bench runs on loopback), N requests a
//       second for S seconds after a warm-up of W seconds (sent, not
//       measured). The codes of FILE (one a line) are sent once each, in
//       order; when they run out, well-formed codes that no voucher has
//       (letters --missing-letters, ZX) are sent instead: those are
//       answered 404 and count toward the merchant's lock-out, so the
//       daemon under test runs with verification.max_failures and
//       daily_max_failures 0. Prints one line of key=value:
//         report rate=N measured_s=... sent=... answered=... unanswered=...
//           achieved_per_s=... p50_ms=... p99_ms=... max_ms=... status_200=...
//           existing_sent=... existing_non2xx=... missing_sent=... errors=...
//   giftgate-apiload codes --count N [--letters BQ] [--from K]
//       prints N well-formed codes: the letters, K, K+1, ... in seven
//       digits, and the check digit (the vouchers bench-api.sh inserts)
//
// Open loop: request i is due at start + i / N whatever happened to the
// ones before, and its latency is measured from that due time, not from
// when a connection was free to send it. A slow answer therefore shows in
// the latency of every request that waited behind it, as a terminal's user
// would feel it, instead of quietly slowing the schedule (coordinated
// omission). Due requests wait in one queue for the first idle connection;
// one request at a time on each (no pipelining, as a terminal sends).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "daemon/campaign/voucher_code.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Args {
  std::string mode;
  std::map<std::string, std::string> opts;
  std::string get(const std::string& k, const std::string& d) const {
    auto it = opts.find(k);
    return it == opts.end() ? d : it->second;
  }
  double num(const std::string& k, double d) const {
    auto it = opts.find(k);
    return it == opts.end() ? d : std::stod(it->second);
  }
  bool has(const std::string& k) const { return opts.count(k) > 0; }
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) throw std::invalid_argument("usage: giftgate-apiload run|codes [options]");
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + k);
    if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
    a.opts[k.substr(2)] = argv[++i];
  }
  return a;
}

// Two code letters (A-Z without I and O) or an error.
std::string code_letters(const std::string& letters) {
  if (letters.size() != 2) throw std::invalid_argument("code letters are two of A-Z without I, O");
  for (const char c : letters)
    if (c < 'A' || c > 'Z' || c == 'I' || c == 'O')
      throw std::invalid_argument("code letters are two of A-Z without I, O");
  return letters;
}

// The well-formed code `letters`, n in seven digits, check digit.
std::string make_code(const std::string& letters, long n) {
  std::string first = fmt::format("{}{:07d}", letters, n % 10000000);
  const auto check = giftgate::voucher_check_digit(first);
  if (!check) throw std::logic_error("no check digit for " + first);
  return first + *check;
}

int codes_mode(const Args& a) {
  const long count = static_cast<long>(a.num("count", 0));
  const long from = static_cast<long>(a.num("from", 0));
  const std::string letters = code_letters(a.get("letters", "BQ"));
  if (count < 1 || from < 0 || from + count > 10000000)
    throw std::invalid_argument("--count 1 or more, --from 0 or more, both within seven digits");
  std::string out;
  for (long i = 0; i < count; ++i) {
    out += make_code(letters, from + i);
    out += '\n';
    if (out.size() > (1 << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// One request of the schedule.
struct Due {
  Clock::time_point at;
  std::size_t index;  // into the schedule: which code
  bool measured;
};

struct Results {
  std::vector<double> latency_ms;  // of the measured requests answered
  std::map<unsigned, std::uint64_t> by_status;  // measured and warm-up alike
  std::uint64_t sent = 0, answered = 0, errors = 0, reconnects = 0;
  std::uint64_t existing_sent = 0, existing_non2xx = 0, missing_sent = 0;
  std::uint64_t measured_sent = 0, measured_answered = 0;
  Clock::time_point last_answer{};
};

class Load;

// One keep-alive connection: idle, or carrying one request.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Load& load) : socket_(io), load_(load) {}
  bool idle() const { return up_ && !busy_; }
  void connect(const asio::ip::tcp::endpoint& to);
  void send(const Due& due, const std::string& code);
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void on_answer(boost::system::error_code ec);

  asio::ip::tcp::socket socket_;
  Load& load_;
  asio::ip::tcp::endpoint to_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  Due due_{};
  bool up_ = false, busy_ = false;
};

class Load {
 public:
  Load(asio::io_context& io, const Args& a)
      : io_(io),
        timer_(io),
        host_(a.get("host", "127.0.0.1")),
        port_(static_cast<unsigned short>(a.num("port", 0))),
        key_(a.get("key", "")),
        missing_letters_(code_letters(a.get("missing-letters", "ZX"))),
        rate_(a.num("rate", 1000)),
        seconds_(a.num("seconds", 10)),
        warmup_(a.num("warmup", 0)),
        settle_(a.num("settle", 10)),
        connections_(static_cast<int>(a.num("connections", 16))) {
    if (port_ == 0 || key_.empty() || !a.has("codes"))
      throw std::invalid_argument("run needs --port, --key and --codes");
    if (rate_ <= 0 || seconds_ <= 0 || warmup_ < 0 || connections_ < 1 || connections_ > 1000)
      throw std::invalid_argument("--rate and --seconds above 0, --connections 1 to 1000");
    std::ifstream in(a.get("codes", ""));
    if (!in) throw std::invalid_argument("cannot read " + a.get("codes", ""));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) codes_.push_back(line);
    total_ = static_cast<std::size_t>((warmup_ + seconds_) * rate_);
    warm_ = static_cast<std::size_t>(warmup_ * rate_);
    results_.latency_ms.reserve(total_);
  }

  void start() {
    const asio::ip::tcp::endpoint to(asio::ip::make_address(host_), port_);
    for (int i = 0; i < connections_; ++i) {
      auto c = std::make_shared<Connection>(io_, *this);
      pool_.push_back(c);
      c->connect(to);
    }
    // A moment to connect, then the schedule starts.
    start_ = Clock::now() + 200ms;
    tick();
  }

  // A connection is up or has answered: give it the oldest due request.
  void dispatch() {
    for (auto& c : pool_) {
      if (queue_.empty()) break;
      if (!c->idle()) continue;
      const Due due = queue_.front();
      queue_.pop_front();
      const bool existing = due.index < codes_.size();
      const std::string code =
          existing ? codes_[due.index] : make_code(missing_letters_, static_cast<long>(due.index));
      ++results_.sent;
      if (due.measured) ++results_.measured_sent;
      if (existing) ++results_.existing_sent;
      else ++results_.missing_sent;
      c->send(due, code);
    }
  }

  void answered(const Due& due, unsigned status) {
    const auto now = Clock::now();
    ++results_.answered;
    ++results_.by_status[status];
    results_.last_answer = now;
    if (due.index < codes_.size() && (status < 200 || status > 299)) ++results_.existing_non2xx;
    if (due.measured) {
      ++results_.measured_answered;
      results_.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - due.at).count());
    }
    finish_if_done();
  }
  void failed() {
    ++results_.errors;
    finish_if_done();
  }
  void reconnected() { ++results_.reconnects; }

  const std::string& key() const { return key_; }
  const std::string& host() const { return host_; }
  bool stopping() const { return stopping_; }

  void report() const {
    auto lat = results_.latency_ms;
    std::sort(lat.begin(), lat.end());
    const auto pct = [&](double p) {
      if (lat.empty()) return 0.0;
      const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(lat.size() - 1) + 0.5);
      return lat[std::min(i, lat.size() - 1)];
    };
    const auto measure_start = start_ + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(warmup_));
    const double span =
        results_.last_answer > measure_start
            ? std::chrono::duration<double>(results_.last_answer - measure_start).count()
            : 0;
    std::string statuses;
    for (const auto& [status, n] : results_.by_status) statuses += fmt::format(" status_{}={}", status, n);
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const double cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                       static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    std::printf("%s\n",
                fmt::format("report rate={} measured_s={:.2f} connections={} sent={} answered={} "
                            "unanswered={} errors={} reconnects={} measured_sent={} "
                            "measured_answered={} achieved_per_s={:.1f} samples={} p50_ms={:.2f} "
                            "p99_ms={:.2f} max_ms={:.2f} existing_sent={} existing_non2xx={} "
                            "missing_sent={} codes_in_file={}{} apiload_cpu_s={:.2f}",
                            rate_, span, connections_, results_.sent, results_.answered,
                            total_ - results_.answered, results_.errors, results_.reconnects,
                            results_.measured_sent, results_.measured_answered,
                            span > 0 ? static_cast<double>(results_.measured_answered) / span : 0.0,
                            lat.size(), pct(50), pct(99), lat.empty() ? 0.0 : lat.back(),
                            results_.existing_sent, results_.existing_non2xx,
                            results_.missing_sent, codes_.size(), statuses, cpu)
                    .c_str());
    std::fflush(stdout);
  }

 private:
  // Every millisecond: the requests now due join the queue.
  void tick() {
    const auto now = Clock::now();
    while (next_ < total_) {
      const auto at = start_ + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(next_) / rate_));
      if (at > now) break;
      queue_.push_back({at, next_, next_ >= warm_});
      ++next_;
    }
    dispatch();
    if (next_ < total_) {
      timer_.expires_after(1ms);
      timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick();
      });
      return;
    }
    // All scheduled: what is still unanswered after the settle time stays so.
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settle_)));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) stop();
    });
    finish_if_done();
  }

  void finish_if_done() {
    if (next_ >= total_ && queue_.empty() && results_.answered + results_.errors >= total_) stop();
  }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    timer_.cancel();
    for (auto& c : pool_) c->close();
  }

  asio::io_context& io_;
  asio::steady_timer timer_;
  std::string host_;
  unsigned short port_;
  std::string key_;
  std::string missing_letters_;
  double rate_, seconds_, warmup_, settle_;
  int connections_;
  std::vector<std::string> codes_;
  std::size_t total_ = 0, warm_ = 0, next_ = 0;
  Clock::time_point start_{};
  std::deque<Due> queue_;
  std::vector<std::shared_ptr<Connection>> pool_;
  Results results_;
  bool stopping_ = false;
};

void Connection::connect(const asio::ip::tcp::endpoint& to) {
  to_ = to;
  up_ = false;
  socket_.async_connect(to, [self = shared_from_this()](boost::system::error_code ec) {
    if (self->load_.stopping()) return;
    if (ec) {
      // Refused or reset while connecting: once more shortly, bounded by the run.
      auto timer = std::make_shared<asio::steady_timer>(self->socket_.get_executor(), 100ms);
      timer->async_wait([self, timer](boost::system::error_code) {
        if (self->load_.stopping()) return;
        boost::system::error_code ignored;
        self->socket_.close(ignored);
        self->connect(self->to_);
      });
      return;
    }
    self->socket_.set_option(asio::ip::tcp::no_delay(true));
    self->up_ = true;
    self->load_.dispatch();
  });
}

void Connection::send(const Due& due, const std::string& code) {
  due_ = due;
  busy_ = true;
  request_ = {};
  request_.method(http::verb::post);
  request_.target("/v1/verifications");
  request_.version(11);
  request_.set(http::field::host, load_.host());
  request_.set(http::field::authorization, "Bearer " + load_.key());
  request_.set(http::field::content_type, "application/json");
  request_.keep_alive(true);
  request_.body() = "{\"code\":\"" + code + "\"}";
  request_.prepare_payload();
  http::async_write(socket_, request_,
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      if (ec) return self->on_answer(ec);
                      self->response_ = {};
                      http::async_read(self->socket_, self->buffer_, self->response_,
                                       [self](boost::system::error_code ec2, std::size_t) {
                                         self->on_answer(ec2);
                                       });
                    });
}

void Connection::on_answer(boost::system::error_code ec) {
  busy_ = false;
  if (load_.stopping()) return;
  if (ec) {
    // The request is lost (counted as an error, never answered); a new
    // connection takes this one's place.
    load_.failed();
    load_.reconnected();
    close();
    buffer_.clear();
    connect(to_);
    return;
  }
  const bool keep = response_.keep_alive();
  load_.answered(due_, response_.result_int());
  if (!keep) {
    load_.reconnected();
    close();
    buffer_.clear();
    connect(to_);
    return;
  }
  load_.dispatch();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.mode == "codes") return codes_mode(a);
    if (a.mode != "run") throw std::invalid_argument("usage: giftgate-apiload run|codes [options]");
    asio::io_context io;
    Load load(io, a);
    load.start();
    io.run();
    load.report();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "giftgate-apiload: %s\n", e.what());
    return 2;
  }
}
