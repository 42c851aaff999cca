// giftgated with two SMSCs, each a simulator process of its own, and two
// binds to each: replies spread and counted per bind, receipts matched by
// (SMSC, message id) on any bind, one SMSC going away mid-traffic and coming
// back, and a USSD dialogue that stays on its SMSC.
#include "tests/e2e/gate.hpp"
#include "tests/support/giftctl_run.hpp"

#include <map>

namespace giftgate::e2e {
namespace {

// The Gate's simulator is SMSC "a"; `b` is a second one. The single smsc:
// section the Gate writes is replaced by an smscs: list of both.
struct TwoSmscs {
  Gate g;
  std::unique_ptr<SimProcess> b = std::make_unique<SimProcess>();
  unsigned short b_port = b->port();

  explicit TwoSmscs(const std::string& options = "", int members = 60, int rate = 0)
      : g("", members) {
    b->command("set receipt_hold=on");
    const std::string single = fmt::format(
        "smsc:\n  port: {}\n  rate: 0\n  reconnect_max_seconds: 1\n", g.sim.port());
    const std::string entry = fmt::format(
        "    rate: {}\n    reconnect_max_seconds: 1\n    response_timeout_seconds: 1\n"
        "    window: 4\n    binds: 2\n",
        rate);
    g.edit_config(single, fmt::format("smscs:\n  - id: a\n    port: {}\n{}  - id: b\n    port: {}\n{}{}",
                                      g.sim.port(), entry, b_port, entry, options));
  }
  void start() {
    g.start();
    // Both binds of both SMSCs.
    REQUIRE_MESSAGE(g.sim.wait_for("bind", 10s), g.daemon->log());
    for (int i = 0; i < 2; ++i) REQUIRE_MESSAGE(b->wait_for("bind", 10s), g.daemon->log());
  }
  // The SMSC "b" again on its port, after it went away.
  void restart_b() {
    test::SimOptions o;
    o.extra_args = {"--port", std::to_string(b_port)};
    b = std::make_unique<SimProcess>(o);
    b->command("set receipt_hold=on");
  }
  static std::string member(int i) { return fmt::format("861370000{:04}", i); }
};

// Submits each simulator's connections took, by connection number.
std::map<std::string, int> submits_by_conn(const SimProcess& sim) {
  std::map<std::string, int> n;
  for (const auto& e : sim.history())
    if (e.name == "submit" && e.fields.count("conn")) ++n[e.fields.at("conn")];
  return n;
}

}  // namespace

TEST_CASE("giftgated, two SMSCs: replies spread over every bind and are counted per bind") {
  TwoSmscs t("routing:\n  reply_via_origin: false\n");
  t.g.enable_metrics();
  t.g.sim.command("set receipts=on");
  t.b->command("set receipts=on");
  t.start();
  std::vector<std::string> burst;
  for (int i = 2; i < 42; ++i) burst.push_back("mo src=" + TwoSmscs::member(i) + " dst=12580 text=JF");
  t.g.sim.commands(burst);
  // Every member answered once, by one SMSC or the other.
  REQUIRE_MESSAGE(t.g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 40, 20s),
                  t.g.daemon->log());
  const auto on_a = submits_by_conn(t.g.sim);
  const auto on_b = submits_by_conn(*t.b);
  int total = 0;
  for (const auto& [conn, n] : on_a) total += n;
  for (const auto& [conn, n] : on_b) total += n;
  CHECK(total == t.g.value("SELECT COUNT(*) FROM outbox_parts"));  // each part once
  CHECK(t.g.sim.count("message") + t.b->count("message") == 40);
  CHECK(on_a.size() == 2);  // both binds of each SMSC took some
  CHECK(on_b.size() == 2);
  for (const auto& [conn, n] : on_a) CHECK(n >= 4);
  for (const auto& [conn, n] : on_b) CHECK(n >= 4);
  // The metrics count them per SMSC and bind, and match what each saw.
  const std::string body = t.g.metrics("giftgate_bind_submits_total");
  for (const char* smsc : {"a", "b"})
    for (int bind = 1; bind <= 2; ++bind) {
      const auto sent = t.g.metric(fmt::format(
          "giftgate_bind_submits_total{{smsc=\"{}\",bind=\"{}\",outcome=\"sent\"}}", smsc, bind));
      CHECK(sent >= 4);
      CHECK(t.g.metric(fmt::format("giftgate_bind_up{{smsc=\"{}\",bind=\"{}\"}}", smsc, bind)) == 1);
    }
  // Both simulators count message ids from the same number: ids repeat
  // across SMSCs, and every receipt still found its own message.
  CHECK(t.g.value("SELECT COUNT(*) FROM receipts WHERE outcome <> 'applied'") == 0);
  CHECK(t.g.value("SELECT COUNT(DISTINCT smsc) FROM outbox_parts") == 2);
}

TEST_CASE("giftgated, two SMSCs: a reply goes back through the SMSC its MO came from") {
  TwoSmscs t;
  t.start();
  for (int i = 2; i < 8; ++i) t.b->command("mo src=" + TwoSmscs::member(i) + " dst=12580 text=JF");
  for (int i = 2; i < 8; ++i) {
    const auto m = t.b->wait_for("message", 10s, [&](const SimProcess::Event& e) {
      return e.fields.count("dst") && e.fields.at("dst") == TwoSmscs::member(i);
    });
    CHECK_MESSAGE(m, t.g.daemon->log());
  }
  CHECK(submits_by_conn(t.g.sim).empty());
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox WHERE route = 'b'") == 6);
}

TEST_CASE("giftgated, two SMSCs: a receipt on the other bind, or before its answer, is matched") {
  TwoSmscs t;
  t.start();
  t.b->command("set resp_delay_ms=300");
  t.b->command("mo src=8613900000001 dst=12580 text=JF");  // the answer has two parts
  std::vector<SimProcess::Event> parts;
  for (int i = 0; i < 2; ++i) {
    const auto submit = t.b->wait_for("submit", 10s);
    REQUIRE_MESSAGE(submit, t.g.daemon->log());
    parts.push_back(*submit);
  }
  // b's other connection carries the receipts, before the submits' answers
  // have reached the gateway.
  const std::string took = parts[0].fields.at("conn");
  std::string other;
  for (const auto& e : t.b->history())
    if (e.name == "bind" && e.fields.count("conn") && e.fields.at("conn") != took)
      other = e.fields.at("conn");
  REQUIRE(!other.empty());
  for (const auto& p : parts) {
    t.b->command("receipt id=" + p.fields.at("id") + " stat=DELIVRD conn=" + other +
                 " src=8613900000001");
    // The same id from SMSC a, about a message a never sent: not this one's.
    t.g.sim.command("receipt id=" + p.fields.at("id") + " stat=UNDELIV src=8613900000001");
  }
  CHECK_MESSAGE(t.g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 10s),
                t.g.daemon->log());
  CHECK(t.g.value("SELECT COUNT(*) FROM receipts WHERE smsc = 'b' AND outcome = 'applied'") == 2);
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox_parts WHERE smsc = 'b' AND receipt = 'DELIVRD'") == 2);
  // a's receipts wait as early ones, and nothing of a's ever claims them.
  CHECK(t.g.wait_value("SELECT COUNT(*) FROM receipts WHERE smsc = 'a' AND outcome = 'unmatched'",
                       2, 25s));
}

TEST_CASE("giftgated, two SMSCs: one goes away mid-traffic, the other carries on, it comes back") {
  TwoSmscs t("routing:\n  reply_via_origin: false\n", 80);
  // A back-off far longer than the test: what b lost must go again at once.
  t.g.edit_config("first_resend_seconds: 1", "first_resend_seconds: 600");
  t.g.sim.command("set receipts=on");
  t.b->command("set receipts=on resp_delay_ms=150");  // answers in flight when it goes
  t.start();
  std::vector<std::string> burst;
  for (int i = 2; i < 42; ++i) burst.push_back("mo src=" + TwoSmscs::member(i) + " dst=12580 text=JF");
  t.g.sim.commands(burst);
  REQUIRE(t.b->wait_for("submit", 10s));
  t.b.reset();  // the SMSC is gone: its process quits, its sockets close
  // Every member answered, through a, each message in one final state.
  CHECK_MESSAGE(t.g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 40, 30s),
                t.g.daemon->log());
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'") == 0);
  for (int i = 2; i < 42; ++i)
    CHECK(t.g.sim.wait_for("message", 1s, [&](const SimProcess::Event& e) {
      return e.fields.at("dst") == TwoSmscs::member(i);
    }).has_value() == true);
  // Back on its port: it binds again and takes its share.
  t.restart_b();
  t.b->command("set receipts=on");
  REQUIRE_MESSAGE(t.b->wait_for("bind", 15s), t.g.daemon->log());
  REQUIRE_MESSAGE(t.b->wait_for("bind", 15s), t.g.daemon->log());
  burst.clear();
  for (int i = 42; i < 72; ++i) burst.push_back("mo src=" + TwoSmscs::member(i) + " dst=12580 text=JF");
  t.g.sim.commands(burst);
  CHECK_MESSAGE(t.g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 70, 30s),
                t.g.daemon->log());
  CHECK(submits_by_conn(*t.b).size() >= 1);
}

TEST_CASE("giftgated, two SMSCs: a silent SMSC stops getting traffic within its response timeout") {
  TwoSmscs t("routing:\n  reply_via_origin: false\n", 40);
  t.g.edit_config("first_resend_seconds: 1", "first_resend_seconds: 600");
  t.g.sim.command("set receipts=on");
  t.b->command("set receipts=on");
  t.start();
  t.b->command("set silent=on");
  const auto since = std::chrono::steady_clock::now();
  std::vector<std::string> burst;
  for (int i = 2; i < 32; ++i) burst.push_back("mo src=" + TwoSmscs::member(i) + " dst=12580 text=JF");
  t.g.sim.commands(burst);
  CHECK_MESSAGE(t.g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 30, 30s),
                t.g.daemon->log());
  // Far sooner than the enquire_link interval (30 s) would have noticed.
  CHECK(std::chrono::steady_clock::now() - since < 20s);
  // What b swallowed was in doubt and went again through a.
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox_parts WHERE smsc = 'b' AND status = -1") >= 1);
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'") == 0);
}

TEST_CASE("giftgated, two SMSCs: a USSD dialogue stays on its SMSC while the other reconnects") {
  TwoSmscs t;
  t.start();
  t.g.dial("8613800138000", "*12580#");
  const auto first = t.g.screen("8613800138000");
  CHECK(first.fields.count("ussd_op"));
  t.b->command("drop");  // the other SMSC's connections go, and come back
  t.g.press("8613800138000", "1");
  const auto second = t.g.screen("8613800138000");
  CHECK(contains(second.fields.count("text") ? second.fields.at("text") : second.line, "12000"));
  REQUIRE_MESSAGE(t.b->wait_for("bind", 15s), t.g.daemon->log());
  for (const auto& e : t.b->history()) CHECK(e.name != "ussd_screen");
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox WHERE channel = 'ussd' AND route = 'a'") >= 2);
}

TEST_CASE("giftgated, two SMSCs: a stop waits for the answers on every bind, then unbinds each") {
  TwoSmscs t;
  t.start();
  // Answers held back on both SMSCs: the drain must wait for all of them.
  t.g.sim.command("set resp_delay_ms=700");
  t.b->command("set resp_delay_ms=700");
  t.g.sim.command("mo src=8613900000001 dst=12580 text=JF");
  t.b->command("mo src=8613800138000 dst=12580 text=JF");
  REQUIRE(t.g.sim.wait_for("submit", 10s));
  REQUIRE(t.b->wait_for("submit", 10s));
  t.g.daemon->signal(SIGTERM);
  CHECK(t.g.daemon->wait_exit(15s) == 0);
  // Every connection of both unbound, after the answers came, and every
  // part recorded as the SMSC answered it: none left in flight.
  for (SimProcess* sim : {&t.g.sim, t.b.get()}) {
    std::set<std::string> unbound;
    for (const auto& e : sim->history())
      if (e.name == "unbind") unbound.insert(e.fields.at("conn"));
    CHECK(unbound.size() == 2);
  }
  CHECK(t.g.value("SELECT COUNT(*) FROM outbox_parts WHERE status IS NULL OR status <> 0") == 0);
  CHECK(t.g.value("SELECT COUNT(DISTINCT smsc) FROM outbox_parts") == 2);
}

namespace {

// giftctl status's lines for one SMSC, once `want` is in one of them
// (bounded: 10 s).
std::vector<std::string> status_lines(TwoSmscs& t, const std::string& smsc, const std::string& want) {
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) {
    lines.clear();
    const auto run = test::run_giftctl(t.g.dir, t.g.config_path, "status");
    std::istringstream in(run.out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(smsc + " ", 0) == 0) lines.push_back(line);
    for (const auto& l : lines)
      if (contains(l, want)) return lines;
    std::this_thread::sleep_for(200ms);
  }
  return lines;
}

}  // namespace

TEST_CASE("giftgated, two SMSCs: an SMSC's rate is shared by its binds up, and again when one goes") {
  TwoSmscs t("", 10, 40);
  t.g.enable_metrics();
  t.start();
  // Two binds up: 20 a second each (the RATE/S column, as the sessions send).
  auto a = status_lines(t, "a", " 20 ");
  REQUIRE(a.size() == 2);
  for (const auto& line : a) CHECK(contains(line, " bound "));
  for (const auto& line : a) CHECK(contains(line, " 20 "));
  // One of a's connections closed and its binds refused: the other takes
  // the whole rate, and b's are as they were.
  t.g.sim.command("set bind=reject");
  std::string first;
  for (const auto& e : t.g.sim.history())
    if (e.name == "bind" && first.empty()) first = e.fields.at("conn");
  t.g.sim.command("drop conn=" + first);
  a = status_lines(t, "a", "refused");  // dropped, then its bind refused
  std::string up, down;
  for (const auto& line : a) (contains(line, " bound ") ? up : down) = line;
  INFO(up, " / ", down);
  CHECK(contains(up, " 40 "));
  CHECK(contains(down, "refused"));
  for (const auto& line : status_lines(t, "b", " 20 ")) CHECK(contains(line, " 20 "));
}

TEST_CASE("giftctl status: each SMSC and bind of the running daemon, and a refusal when none runs") {
  TwoSmscs t;
  t.g.enable_metrics();
  const auto before = test::run_giftctl(t.g.dir, t.g.config_path, "status");
  CHECK(before.status == 1);
  CHECK(contains(before.err, "nothing answers on 127.0.0.1"));
  t.start();
  t.b->command("set bind=reject");
  t.b->command("drop");
  t.g.ask("8613800138000", "JF");
  // b's binds are refused now: status says so for both, once each has
  // tried again (bounded wait; until then one may say "connection lost").
  test::CtlRun run;
  for (int i = 0; i < 50; ++i) {
    run = test::run_giftctl(t.g.dir, t.g.config_path, "status");
    std::size_t refused = 0;
    for (auto at = run.out.find("bind refused"); at != std::string::npos;
         at = run.out.find("bind refused", at + 1))
      ++refused;
    if (refused == 2) break;
    std::this_thread::sleep_for(200ms);
  }
  INFO(run.out, run.err);
  CHECK(run.status == 0);
  CHECK(contains(run.out, "4 connection(s) to 2 SMSC(s), 2 bound"));
  std::vector<std::string> lines;
  std::istringstream in(run.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 6);  // the summary, the header, four connections
  CHECK(lines[2].rfind("a ", 0) == 0);
  CHECK(contains(lines[2], " bound "));
  CHECK(contains(lines[4], "b "));
  CHECK_FALSE(contains(lines[4], " bound "));
  for (const std::size_t b : {4u, 5u}) {
    CHECK(lines[b].rfind("b ", 0) == 0);
    CHECK(contains(lines[b], "bind refused: 0x0000000D"));  // the last error, with its status
  }
}

}  // namespace giftgate::e2e
