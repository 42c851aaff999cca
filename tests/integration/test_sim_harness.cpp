// The SMSC simulator harness itself: start, commands, events, encoding.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/sim_process.hpp"

using giftgate::test::SimOptions;
using giftgate::test::SimProcess;
using namespace std::chrono_literals;

namespace {

// A plain TCP connection to the simulator, to make it report events without
// an SMPP client; closed when it goes out of scope.
struct RawConnection {
  int fd = -1;
  explicit RawConnection(unsigned short port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  void send_hex(const std::string& hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  ~RawConnection() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("sim harness: starts the simulator and reads its port") {
  SimProcess sim;
  CHECK(sim.port() > 0);
  CHECK_FALSE(sim.tls());
  CHECK(sim.running());
  CHECK(sim.count("ready") == 1);
}

TEST_CASE("sim harness: set answers ok, bad keys and values throw") {
  SimProcess sim;
  const auto ok = sim.command("set ids=hex receipt_ids=dec receipts=on resp_delay_ms=5");
  CHECK(ok.name == "ok");
  CHECK(ok.fields.at("cmd") == "set");
  sim.command("get");
  const auto settings = sim.wait_for("settings", 2s);
  REQUIRE(settings);
  CHECK(settings->fields.at("ids") == "hex");
  CHECK(settings->fields.at("receipt_ids") == "dec");
  CHECK(settings->fields.at("resp_delay_ms") == "5");
  CHECK_THROWS_AS(sim.command("set no_such_key=1"), std::runtime_error);
  CHECK_THROWS_AS(sim.command("set ids=octal"), std::runtime_error);
  CHECK_THROWS_AS(sim.command("no_such_command"), std::runtime_error);
  // Still serving after the errors.
  CHECK_NOTHROW(sim.command("reset"));
}

TEST_CASE("sim harness: stats answers with counters") {
  SimProcess sim;
  sim.command("stats");
  const auto stats = sim.wait_for("stats", 2s);
  REQUIRE(stats);
  CHECK(stats->fields.at("submits") == "0");
  CHECK(stats->fields.at("binds") == "0");
  CHECK(stats->fields.count("receipts") == 1);
}

TEST_CASE("sim harness: percent-encoding round trip") {
  const std::string chinese = "您的积分 = 100%\n兑换🎁";
  const auto encoded = SimProcess::encode(chinese);
  CHECK(encoded.find(' ') == std::string::npos);
  CHECK(encoded.find('=') == std::string::npos);
  CHECK(encoded.find('\n') == std::string::npos);
  CHECK(SimProcess::decode(encoded) == chinese);
  CHECK(SimProcess::encode("a-b_c.d!e~f*g'h(i)j") == "a-b_c.d!e~f*g'h(i)j");
  CHECK(SimProcess::encode("积") == "%E7%A7%AF");
  CHECK(SimProcess::decode("100%") == "100%");  // a malformed escape stays
  CHECK(SimProcess::decode("%zz%4") == "%zz%4");

  const auto event = SimProcess::parse("message src=1 text=" + encoded + " flag");
  CHECK(event.name == "message");
  CHECK(event.fields.at("text") == chinese);
  CHECK(event.fields.at("flag").empty());
}

TEST_CASE("sim harness: a Chinese value survives the simulator") {
  // The simulator decodes command values and encodes event values with
  // encodeURIComponent; a receipt with no receiver echoes the id back.
  SimProcess sim;
  const std::string id = "积分-兑换 id=7";
  CHECK_THROWS_AS(sim.command("receipt id=" + SimProcess::encode(id) + " stat=DELIVRD"),
                  std::runtime_error);
  const auto failed = sim.wait_for("receipt_failed", 2s);
  REQUIRE(failed);
  CHECK(failed->fields.at("id") == id);
  CHECK(failed->fields.at("reason") == "no_receiver");
}

TEST_CASE("sim harness: a batch of commands goes in one write, answered in order") {
  SimProcess sim;
  const auto answers = sim.commands({"set resp_delay_ms=5", "stats", "set resp_delay_ms=0"});
  REQUIRE(answers.size() == 3);
  CHECK(answers[0].fields.at("cmd") == "set");
  CHECK(answers[1].fields.at("cmd") == "stats");
  CHECK(answers[2].fields.at("cmd") == "set");
  CHECK(sim.commands({}).empty());
  // An error anywhere in the batch is thrown, naming that line.
  try {
    sim.commands({"stats", "set colour=red"});
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("set colour=red") != std::string::npos);
  }
}

TEST_CASE("sim harness: wait_for returns each event once, honours the predicate and times out") {
  SimProcess sim;
  RawConnection a(sim.port());
  RawConnection b(sim.port());
  REQUIRE(sim.wait_for("connect", 5s));
  REQUIRE(sim.wait_for("connect", 5s));
  CHECK_FALSE(sim.wait_for("connect", 50ms));
  CHECK(sim.count("connect") == 2);

  // An unknown command id, a bad submit_sm: reported, and the simulator goes on.
  a.send_hex("00000010000000990000000000000042");
  const auto pdu = sim.wait_for("pdu", 5s, [](const SimProcess::Event& e) {
    return e.fields.count("seq") && e.fields.at("seq") == "66";
  });
  REQUIRE(pdu);
  CHECK(pdu->fields.at("command") == "unknown");
  b.send_hex("0000001400000004000000000000000700010100");
  const auto error = sim.wait_for("session_error", 5s);
  REQUIRE(error);
  CHECK(error->fields.at("reason").find("submit_sm") != std::string::npos);

  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(sim.wait_for("never", 200ms));
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
  sim.command("drop");
  CHECK(sim.wait_for("close", 5s));
  CHECK(sim.wait_for("close", 5s));
}

TEST_CASE("sim harness: commands and waits from several threads") {
  SimProcess sim;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        try {
          sim.command("stats");
          sim.command("set resp_delay_ms=" + std::to_string(i));
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(sim.count("stats") == 80);
  std::size_t oks = 0;
  for (const auto& e : sim.history()) oks += e.name == "ok" ? 1 : 0;
  CHECK(oks == 160);
}

TEST_CASE("sim harness: the destructor stops the simulator even after quit") {
  auto sim = std::make_unique<SimProcess>();
  sim->command("quit");
  // The process is gone: later commands fail instead of hanging.
  for (int i = 0; i < 100 && sim->running(); ++i) std::this_thread::sleep_for(20ms);
  CHECK_FALSE(sim->running());
  CHECK_THROWS_AS(sim->command("stats"), std::runtime_error);
  CHECK_FALSE(sim->wait_for("stats", 1s));
  sim.reset();
}

TEST_CASE("sim harness: a missing TLS key is refused before starting") {
  SimOptions options;
  options.tls = true;
  CHECK_THROWS_AS(SimProcess{options}, std::runtime_error);
}

TEST_CASE("sim harness: a simulator that cannot start is reported") {
  SimOptions options;
  options.extra_args = {"--no-such-option"};
  try {
    SimProcess sim(options);
    FAIL("the simulator started with a bad option");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("ready") != std::string::npos);
  }
}
