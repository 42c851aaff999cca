// giftgate-loadgen: the benchmark's and the drills' SMSC, on the project's
// own framer and codec (scripts/bench.sh, scripts/drills.sh).
//
//   giftgate-loadgen csv --dir D [--members N] [--points P]
//       writes D/members.csv and D/merchants.csv for giftctl import
//   giftgate-loadgen smsc [--port P] [--smscs N | --ports P1,P2,...] [--members N]
//                         [--rate R] [--warmup S] [--duration S] [--settle S]
//                         [--max-unacked N] [--mix B,R,V] [--redemptions N]
//                         [--db PATH] [--control] [--flood N]
//       plays the SMSC: prints "ready port=P1 ports=P1,...", waits for a
//       bind, sends the mix for the duration (or until "finish" with
//       --control), waits for the answers to settle, prints the report and,
//       with --db, the check. --smscs N plays N SMSCs on P, P+1, ... (each
//       its own free port with P 0); --ports names each SMSC's port. They
//       share the members and the rate (R is the whole run's, spread over
//       the SMSCs with a receiver bound) and the check; each has its own
//       counters and message ids, starting at the same value. The report
//       has one "bind smsc=S bind=B ..." line per bind and one "smsc smsc=S
//       ..." line per SMSC, then the totals as "report" lines.
//   giftgate-loadgen sink --port P
//       a trivial ESME: answers each MO at once with a one-line reply, to
//       show how fast the generator itself goes
//
// With --control, commands on stdin, one per line: rate R, pause, resume,
// measure, drop, silent S, refuse S, throttle S, msgqful N, lose_resp N,
// malformed N, garbled N, flood N, stats, finish S; and for a backup taken
// under load: snapshot (which MOs are acknowledged now), check_backup PATH
// (the copy at PATH holds every one of them), window and latency (the
// replies' latency between the two). --flood N sends N balance asks from
// one member at the start of the measured time (through SMSC 1).
// A command for the SMSCs (drop, silent, refuse, throttle, msgqful,
// lose_resp, malformed, garbled, flood, stats) goes to every SMSC, or with
// a prefix "@S " (e.g. "@2 drop") to SMSC S alone; "@S stats" answers
// with that SMSC's counters.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <fmt/format.h>

#include "protocol/pdu.hpp"
#include "protocol/receipt.hpp"
#include "tests/bench/loadgen/check.hpp"
#include "tests/bench/loadgen/pacer.hpp"
#include "tests/bench/loadgen/scenario.hpp"
#include "tests/bench/loadgen/smsc.hpp"
#include "tests/bench/loadgen/wire.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using giftgate::bench::Clock;

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
  bool flag(const std::string& k) const { return opts.count(k) > 0; }
};

// Each SMSC's port: --ports P1,P2,... or --smscs N from --port P (P, P+1,
// ...; every one 0, so its own free port, with P 0).
std::vector<std::uint16_t> smsc_ports(const Args& a) {
  std::vector<std::uint16_t> ports;
  if (a.flag("ports")) {
    if (a.flag("smscs") || a.flag("port"))
      throw std::invalid_argument("--ports names every port: no --port or --smscs beside it");
    std::istringstream list(a.get("ports", ""));
    for (std::string p; std::getline(list, p, ',');) ports.push_back(static_cast<std::uint16_t>(std::stoul(p)));
    if (ports.empty()) throw std::invalid_argument("--ports wants P1,P2,...");
    return ports;
  }
  const auto n = static_cast<int>(a.num("smscs", 1));
  if (n < 1 || n > 16) throw std::invalid_argument("--smscs wants 1 to 16");
  const auto first = static_cast<int>(a.num("port", 0));
  for (int i = 0; i < n; ++i)
    ports.push_back(static_cast<std::uint16_t>(first == 0 ? 0 : first + i));
  return ports;
}

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) throw std::invalid_argument("usage: giftgate-loadgen csv|smsc|sink [options]");
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + k);
    k = k.substr(2);
    if (k == "control") {
      a.opts[k] = "1";
    } else {
      if (i + 1 >= argc) throw std::invalid_argument("--" + k + " needs a value");
      a.opts[k] = argv[++i];
    }
  }
  return a;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string own_usage() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                     static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  return fmt::format("loadgen_cpu_s={:.2f} loadgen_max_rss_kb={}", cpu, u.ru_maxrss);
}

// The machine's CPU time so far, all CPUs, in clock ticks (/proc/stat): the
// part the hypervisor gave to others (steal) tells a phase slowed by the host
// from one slowed by the gateway. All zero when /proc/stat cannot be read.
struct CpuTicks {
  std::uint64_t steal = 0, total = 0;
};

CpuTicks cpu_ticks() {
  std::ifstream stat("/proc/stat");
  std::string label;
  CpuTicks t;
  if (!(stat >> label) || label != "cpu") return t;
  std::uint64_t v = 0;
  for (int i = 0; i < 10 && stat >> v; ++i) {  // user nice system idle iowait irq softirq steal guest guest_nice
    if (i < 8) t.total += v;  // guest time is counted in user already
    if (i == 7) t.steal = v;
  }
  return t;
}

double steal_pct(const CpuTicks& from, const CpuTicks& to) {
  const auto total = to.total - from.total;
  return total ? 100.0 * static_cast<double>(to.steal - from.steal) / static_cast<double>(total) : 0;
}

// The SMSC run: drives the Smsc through its phases, or by control commands.
class Run {
 public:
  Run(asio::io_context& io, const Args& args)
      : io_(io),
        args_(args),
        scenario_(options(args)),
        smscs_(make_smscs(io, args, scenario_)),
        pacer_(io, scenario_, pointers(smscs_), args.num("rate", 100)),
        timer_(io),
        steal_timer_(io),
        input_(io, ::dup(0)) {}

  int exec() {
    pacer_.set_sending(false);
    std::string ports;
    for (const auto& s : smscs_) {
      s->start();
      ports += fmt::format("{}{}", ports.empty() ? "" : ",", s->port());
    }
    pacer_.start();
    std::printf("ready port=%u ports=%s smscs=%zu\n", smscs_.front()->port(), ports.c_str(),
                smscs_.size());
    std::fflush(stdout);
    if (args_.flag("control")) read_command();
    wait_for_bind();
    io_.run();
    return status_;
  }

 private:
  static giftgate::bench::Scenario::Options options(const Args& a) {
    giftgate::bench::Scenario::Options o;
    o.members = static_cast<int>(a.num("members", 100000));
    o.seed = static_cast<std::uint64_t>(a.num("seed", 1));
    if (a.flag("mix")) {
      char comma;
      std::istringstream mix(a.get("mix", ""));
      if (!(mix >> o.balance >> comma >> o.redeem >> comma >> o.verify) ||
          o.balance + o.redeem + o.verify != 100)
        throw std::invalid_argument("--mix wants three percentages adding up to 100, like 60,30,10");
    }
    return o;
  }
  using SmscList = std::vector<std::unique_ptr<giftgate::bench::Smsc>>;
  static SmscList make_smscs(asio::io_context& io, const Args& a,
                             giftgate::bench::Scenario& scenario) {
    SmscList out;
    const auto ports = smsc_ports(a);
    for (std::size_t i = 0; i < ports.size(); ++i) {
      giftgate::bench::Smsc::Options o;
      o.port = ports[i];
      o.number = static_cast<int>(i + 1);
      o.max_unacked =
          static_cast<std::size_t>(a.num("max-unacked", a.num("rate", 100) > 0 ? 1000 : 200));
      out.push_back(std::make_unique<giftgate::bench::Smsc>(io, o, scenario));
    }
    return out;
  }
  static std::vector<giftgate::bench::Smsc*> pointers(const SmscList& list) {
    std::vector<giftgate::bench::Smsc*> out;
    for (const auto& s : list) out.push_back(s.get());
    return out;
  }
  std::vector<const giftgate::bench::Smsc*> smscs() const {
    std::vector<const giftgate::bench::Smsc*> out;
    for (const auto& s : smscs_) out.push_back(s.get());
    return out;
  }
  giftgate::bench::Smsc::Counters totals() const {
    giftgate::bench::Smsc::Counters c;
    for (const auto& s : smscs_) c += s->counters();
    return c;
  }
  bool any_bound() const {
    return std::any_of(smscs_.begin(), smscs_.end(), [](const auto& s) { return s->any_bound(); });
  }
  std::size_t unacked() const {
    std::size_t n = 0;
    for (const auto& s : smscs_) n += s->unacked();
    return n;
  }
  std::size_t receipts_pending() const {
    std::size_t n = 0;
    for (const auto& s : smscs_) n += s->receipts_pending();
    return n;
  }
  void start_measuring() {
    measure_start_ = Clock::now();
    for (const auto& s : smscs_) s->start_measuring();
    submits_at_start_ = submits_by_bind();
  }
  // Submits taken so far, by SMSC number and bind (kind, number); the
  // measured time's are the difference between two of these.
  using SubmitsByBind = std::map<std::tuple<int, std::string, int>, std::uint64_t>;
  SubmitsByBind submits_by_bind() const {
    SubmitsByBind out;
    for (const auto& s : smscs_)
      for (const auto& [key, b] : s->binds()) out[{s->number(), key.first, key.second}] = b.submits;
    return out;
  }
  double measured_submits_per_s(const SubmitsByBind::key_type& key) const {
    const auto end = submits_at_end_.find(key);
    const auto start = submits_at_start_.find(key);
    const auto n = (end == submits_at_end_.end() ? 0 : end->second) -
                   (start == submits_at_start_.end() ? 0 : start->second);
    return measured_seconds_ > 0 ? static_cast<double>(n) / measured_seconds_ : 0;
  }

  void after(std::chrono::milliseconds d, std::function<void()> f) {
    timer_.expires_after(d);
    timer_.async_wait([f = std::move(f)](boost::system::error_code ec) {
      if (!ec) f();
    });
  }

  // Until one SMSC has a receiver bound: those not (yet) bound take no new
  // MOs, so a daemon bound to some of them is loaded all the same.
  void wait_for_bind() {
    if (!any_bound()) return after(10ms, [this] { wait_for_bind(); });
    if (args_.flag("control")) {
      pacer_.set_sending(true);
      return;
    }
    pacer_.set_sending(true);
    const auto warmup = std::chrono::milliseconds(static_cast<long>(args_.num("warmup", 2) * 1000));
    after(warmup, [this] {
      start_measuring();
      if (args_.flag("flood")) smscs_.front()->flood(static_cast<int>(args_.num("flood", 0)));
      replies_at_start_ = replies();
      sample_steal();
      if (args_.flag("redemptions")) return until_redeemed();
      const auto d = std::chrono::milliseconds(static_cast<long>(args_.num("duration", 10) * 1000));
      after(d, [this] { finish(args_.num("settle", 30)); });
    });
  }

  // Sends until the members have received this many vouchers.
  void until_redeemed() {
    const auto& c = scenario_.counters();
    const auto it = c.find("vouchers_received");
    if (it != c.end() && it->second >= static_cast<std::uint64_t>(args_.num("redemptions", 0)))
      return finish(args_.num("settle", 30));
    after(100ms, [this] { until_redeemed(); });
  }

  // Every 250 ms of the measured time; the report gives the whole and the
  // worst second.
  void sample_steal() {
    steal_samples_.push_back(cpu_ticks());
    steal_timer_.expires_after(250ms);
    steal_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !sending_stopped_) sample_steal();
    });
  }

  std::string steal_report() const {
    if (steal_samples_.size() < 2 || steal_samples_.front().total == 0)
      return "host_steal_pct=- host_steal_worst_s_pct=-";  // not measured, or no /proc/stat
    double worst = 0;
    for (std::size_t i = 0; i + 4 < steal_samples_.size(); ++i)
      worst = std::max(worst, steal_pct(steal_samples_[i], steal_samples_[i + 4]));
    return fmt::format("host_steal_pct={:.1f} host_steal_worst_s_pct={:.1f}",
                       steal_pct(steal_samples_.front(), steal_samples_.back()), worst);
  }

  std::uint64_t replies() const {
    const auto it = scenario_.counters().find("replies");
    return it == scenario_.counters().end() ? 0 : it->second;
  }

  void finish(double settle_seconds) {
    if (sending_stopped_) return;
    sending_stopped_ = true;
    scenario_.set_new_actions(false);  // flows under way still finish
    pacer_.set_sending(true);
    measured_seconds_ = seconds_since(measure_start_);
    steal_timer_.cancel();
    steal_samples_.push_back(cpu_ticks());
    measured_acks_ = totals().measured_acks;
    submits_at_end_ = submits_by_bind();
    replies_measured_ = replies() - replies_at_start_;
    settle_deadline_ = Clock::now() + std::chrono::milliseconds(static_cast<long>(settle_seconds * 1000));
    settle();
  }

  void settle() {
    // Quiet: every MO answered, every reply and receipt through, and (with
    // the database) every outbound message in a final state, resends too.
    bool quiet = unacked() == 0 && scenario_.awaiting() == 0 && receipts_pending() == 0;
    if (quiet && args_.flag("db")) quiet = giftgate::bench::open_messages(args_.get("db", "")) == 0;
    if (!quiet && Clock::now() < settle_deadline_) return after(50ms, [this] { settle(); });
    if (!quiet) std::printf("settle timed_out=1 unacked=%zu awaiting=%llu receipts=%zu\n",
                            unacked(), static_cast<unsigned long long>(scenario_.awaiting()),
                            receipts_pending());
    // A moment more for the daemon to commit what the last answers said.
    after(std::chrono::milliseconds(static_cast<long>(args_.num("grace", 1) * 1000)), [this] {
      report();
      io_.stop();
    });
  }

  // Per bind and per SMSC first, so that a reader taking the last value of
  // a key (the scripts' field) gets the totals.
  void report_smscs() {
    for (const auto& s : smscs_) {
      double smsc_rate = 0;
      for (const auto& [key, b] : s->binds()) {
        const double rate = measured_submits_per_s({s->number(), key.first, key.second});
        smsc_rate += rate;
        std::printf("%s\n", fmt::format("bind smsc={} bind={} kind={} connections={} submits={} "
                                        "submits_per_s={:.1f} receipts_sent={} mo_pdus={} "
                                        "in_doubt={}",
                                        s->number(), b.number, b.kind, b.connections, b.submits,
                                        rate, b.receipts_sent, b.mo_pdus, b.in_doubt)
                                .c_str());
      }
      const auto& c = s->counters();
      std::printf("%s\n", fmt::format("smsc smsc={} port={} mo_sent={} mo_acked={} submits={} "
                                      "submits_per_s={:.1f} "
                                      "submits_refused={} responses_lost={} receipts_sent={} "
                                      "receipts_acked={} receipts_other_bind={} redeliveries={} binds={} "
                                      "binds_refused={} closes={} in_doubt={}",
                                      s->number(), s->port(), c.mo_sent, c.mo_acked, c.submits,
                                      smsc_rate, c.submits_refused, c.responses_lost, c.receipts_sent,
                                      c.receipts_acked, c.receipts_other_bind, c.redeliveries,
                                      c.binds, c.binds_refused, c.closes, c.in_doubt)
                              .c_str());
    }
  }

  void report() {
    report_smscs();
    const auto c = totals();
    auto& lat = scenario_.latency();
    const double secs = measured_seconds_ > 0 ? measured_seconds_ : 1;
    double submitted = 0;
    for (const auto& [key, n] : submits_at_end_) submitted += measured_submits_per_s(key);
    std::printf("%s\n", fmt::format("report measured_s={:.2f} mo_sent={} mo_acked={} "
                                    "acked_per_s={:.1f} replied_per_s={:.1f} submitted_per_s={:.1f} "
                                    "samples={} latency_p50_ms={:.2f} "
                                    "latency_p99_ms={:.2f} latency_max_ms={:.2f} {}",
                                    secs, c.mo_sent, c.mo_acked, static_cast<double>(measured_acks_) / secs,
                                    static_cast<double>(replies_measured_) / secs, submitted,
                                    lat.count(), lat.percentile(50), lat.percentile(99), lat.max(),
                                    steal_report())
                            .c_str());
    std::string mix;
    for (const auto& [k, v] : scenario_.counters()) mix += fmt::format(" {}={}", k, v);
    std::printf("report%s\n", mix.c_str());
    std::printf("%s\n", fmt::format("report submits={} submits_refused={} responses_lost={} "
                                    "receipts_sent={} receipts_acked={} redeliveries={} "
                                    "pdus_nacked={} generic_nacks={} malformed_sent={} binds={} "
                                    "binds_refused={} closes={} in_doubt={} {}",
                                    c.submits, c.submits_refused, c.responses_lost,
                                    c.receipts_sent, c.receipts_acked, c.redeliveries,
                                    c.pdus_nacked, c.generic_nacks, c.malformed_sent, c.binds,
                                    c.binds_refused, c.closes, c.in_doubt, own_usage())
                            .c_str());
    if (args_.flag("db")) {
      const auto r = giftgate::bench::check_database(args_.get("db", ""), scenario_, smscs());
      for (const auto& line : r.lines) std::printf("%s\n", line.c_str());
      if (!r.ok) status_ = 1;
    }
    std::fflush(stdout);
  }

  void read_command() {
    asio::async_read_until(input_, input_buf_, '\n', [this](boost::system::error_code ec,
                                                             std::size_t) {
      if (ec) return finish(args_.num("settle", 30));  // the driver went away
      std::istream in(&input_buf_);
      std::string line;
      std::getline(in, line);
      command(line);
      read_command();
    });
  }

  void command(const std::string& line) {
    std::istringstream words(line);
    std::string name;
    double n = 0;
    words >> name;
    int target = 0;  // 0: every SMSC
    if (name.size() > 1 && name[0] == '@') {
      target = std::atoi(name.c_str() + 1);
      if (target < 1 || static_cast<std::size_t>(target) > smscs_.size()) {
        std::printf("error cmd=%s no_such_smsc\n", name.c_str());
        std::fflush(stdout);
        return;
      }
      words >> name;
    }
    if (target == 0 &&
        (name == "snapshot" || name == "check_backup" || name == "window" || name == "latency"))
      return backup_command(name, line.substr(std::min(line.size(), name.size() + 1)));
    words >> n;
    const auto ms = std::chrono::milliseconds(static_cast<long>(n * 1000));
    // The run's own commands: for no SMSC in particular.
    if (target == 0 && name == "rate") pacer_.set_rate(n);
    else if (target == 0 && name == "pause") pacer_.set_sending(false);
    else if (target == 0 && name == "resume") pacer_.set_sending(true);
    else if (target == 0 && name == "measure") start_measuring();
    else if (target == 0 && name == "finish") return finish(n > 0 ? n : 30);
    else if (!smsc_command(target, name, n, ms)) {
      std::printf("error cmd=%s\n", name.c_str());
      std::fflush(stdout);
      return;
    }
    auto c = totals();
    bool bound = any_bound();
    std::size_t open = unacked();
    std::string which;
    if (target > 0) {
      const auto& s = *smscs_[static_cast<std::size_t>(target - 1)];
      c = s.counters();
      bound = s.any_bound();
      open = s.unacked();
      which = fmt::format(" smsc={}", target);
    }
    std::printf("%s\n", fmt::format("ok cmd={}{} mo_sent={} mo_acked={} unacked={} submits={} "
                                    "submits_refused={} binds={} closes={} bound={}",
                                    name, which, c.mo_sent, c.mo_acked, open, c.submits,
                                    c.submits_refused, c.binds, c.closes, bound ? 1 : 0)
                            .c_str());
    std::fflush(stdout);
  }

  // A fault or an action for SMSC `target` (0: each SMSC); false if unknown.
  bool smsc_command(int target, const std::string& name, double n, std::chrono::milliseconds ms) {
    const auto count = static_cast<int>(n);
    for (std::size_t i = 0; i < smscs_.size(); ++i) {
      if (target != 0 && static_cast<std::size_t>(target - 1) != i) continue;
      auto& s = *smscs_[i];
      if (name == "drop") s.drop_all();
      else if (name == "silent") s.silent_for(ms);
      else if (name == "refuse") s.refuse_binds_for(ms);
      else if (name == "throttle") s.throttle_for(ms);
      else if (name == "msgqful") s.msgqful(count);
      else if (name == "lose_resp") s.lose_responses(count);
      else if (name == "malformed") s.malformed(count);
      else if (name == "garbled") s.garbled(count);
      else if (name == "flood") s.flood(count);
      else if (name != "stats") return false;
    }
    return true;
  }

  // The commands of a backup drill; each answers one "ok cmd=..." line.
  void backup_command(const std::string& name, const std::string& arg) {
    std::string out;
    if (name == "snapshot") {
      snapshot_.assign(smscs_.size(), {});
      std::size_t acked = 0;
      for (std::size_t s = 0; s < smscs_.size(); ++s) {
        const auto& mos = smscs_[s]->mos();
        snapshot_[s].assign(mos.size(), false);
        for (std::size_t i = 0; i < mos.size(); ++i) acked += (snapshot_[s][i] = mos[i].acked) ? 1 : 0;
      }
      out = fmt::format("ok cmd=snapshot acked={}", acked);
    } else if (name == "check_backup") {
      const auto r = giftgate::bench::check_backup(arg, smscs(), snapshot_);
      out = fmt::format("ok cmd=check_backup {}", r.lines.empty() ? "" : r.lines.front());
    } else if (name == "window") {
      scenario_.start_window();
      out = "ok cmd=window";
    } else {
      auto& w = scenario_.close_window();
      out = fmt::format("ok cmd=latency samples={} p50_ms={:.2f} p99_ms={:.2f} max_ms={:.2f}",
                        w.count(), w.percentile(50), w.percentile(99), w.max());
    }
    std::printf("%s\n", out.c_str());
    std::fflush(stdout);
  }

  asio::io_context& io_;
  const Args& args_;
  // Per SMSC, by MO index: acknowledged when snapshot came.
  std::vector<std::vector<bool>> snapshot_;
  giftgate::bench::Scenario scenario_;
  SmscList smscs_;
  giftgate::bench::Pacer pacer_;
  Clock::time_point measure_start_{};
  asio::steady_timer timer_;
  asio::steady_timer steal_timer_;
  std::vector<CpuTicks> steal_samples_;
  asio::posix::stream_descriptor input_;
  asio::streambuf input_buf_;
  bool sending_stopped_ = false;
  double measured_seconds_ = 0;
  std::uint64_t measured_acks_ = 0;
  std::uint64_t replies_at_start_ = 0, replies_measured_ = 0;
  SubmitsByBind submits_at_start_, submits_at_end_;
  Clock::time_point settle_deadline_{};
  int status_ = 0;
};

// The trivial ESME: binds, answers every MO at once with one short reply.
int sink(const Args& args) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"),
                  static_cast<std::uint16_t>(args.num("port", 2775))});
  auto wire = std::make_shared<giftgate::bench::Wire>(std::move(socket), 1);
  std::uint64_t answered = 0, receipts = 0;
  std::string first_receipt_id = "-";  // the self-test reads which ids an SMSC gives
  wire->start(
      [&](giftgate::bench::Wire& w, const giftgate::smpp::Pdu& pdu, std::error_code ec,
          const giftgate::smpp::Header&) {
        namespace smpp = giftgate::smpp;
        if (ec) return;
        if (pdu.as<smpp::EnquireLink>())
          return w.send({smpp::status::ok, pdu.sequence_number, smpp::EnquireLinkResp{}});
        const auto* d = pdu.as<smpp::DeliverSm>();
        if (!d) return;
        w.send({smpp::status::ok, pdu.sequence_number, smpp::DeliverSmResp{}});
        if (smpp::is_delivery_receipt(d->esm_class)) {
          const auto r = smpp::parse_delivery_receipt(*d);
          if (r && receipts++ == 0) first_receipt_id = r->message_id;
          return;
        }
        smpp::SubmitSm reply;
        reply.source = d->dest;
        reply.dest = d->source;
        reply.registered_delivery = smpp::registered::receipt;
        reply.short_message = {'O', 'K'};
        w.send({smpp::status::ok, w.next_sequence(), std::move(reply)});
        ++answered;
      },
      [&](giftgate::bench::Wire&) { io.stop(); });
  giftgate::smpp::BindRequest bind;
  bind.system_id = "sink";
  wire->send({giftgate::smpp::status::ok, wire->next_sequence(), bind});
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code, int) { wire->close(); });
  io.run();
  std::printf("sink answered=%llu receipts=%llu first_receipt_id=%s %s\n",
              static_cast<unsigned long long>(answered), static_cast<unsigned long long>(receipts),
              first_receipt_id.c_str(), own_usage().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    if (args.mode == "csv") {
      giftgate::bench::Scenario::Options o;
      o.members = static_cast<int>(args.num("members", 100000));
      giftgate::bench::Scenario(o).write_csv(args.get("dir", "."),
                                             static_cast<long>(args.num("points", 1000000)));
      return 0;
    }
    if (args.mode == "sink") return sink(args);
    if (args.mode == "smsc") {
      asio::io_context io;
      Run run(io, args);
      return run.exec();
    }
    throw std::invalid_argument("unknown mode " + args.mode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "giftgate-loadgen: %s\n", e.what());
    return 2;
  }
}
