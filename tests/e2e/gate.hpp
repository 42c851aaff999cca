// The end-to-end harness: a temporary directory with a configuration and a
// seeded campaign database, the SMSC simulator, and the built giftgated.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "daemon/campaign/imports.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/sim_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace giftgate::e2e {

using namespace std::chrono_literals;
using test::SimProcess;

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Gate {
  test::TempDir dir;
  SimProcess sim;
  std::string db_path = dir.file("campaign.db");
  std::string config_path = dir.file("giftgate.yaml");
  std::string templates_path = dir.file("messages.yaml");
  std::unique_ptr<test::DaemonProcess> daemon;
  int starts = 0;
  int metrics_port = 0;

  // extra: configuration appended; members: how many (2 named, the rest
  // generated); peer: which SMSC peer plays the SMSC.
  explicit Gate(const std::string& extra = "", int members = 2,
                const test::SimOptions& peer = {})
      : sim(peer) {
    // As a real SMSC: receipts nobody took are kept for the next bind (the
    // node simulator has the setting; the Net::SMPP peer has no holding).
    if (sim.peer() == test::SimOptions::Peer::node_smpp) sim.command("set receipt_hold=on");
    std::filesystem::copy_file(std::string(GIFTGATE_SOURCE_DIR) + "/templates/messages.yaml",
                               templates_path);
    std::ofstream(config_path) << fmt::format(
        "smsc:\n  port: {}\n  rate: 0\n  reconnect_max_seconds: 1\n"
        "outbox:\n  first_resend_seconds: 1\n"
        "metrics:\n  port: 0\n"
        "storage:\n  path: {}\n"
        "templates:\n  path: {}\n"
        "ussd:\n  menus: {}/templates/menus.yaml\n"
        "campaign:\n  start: 2026-01-01\n  end: 2036-01-01\n{}",
        sim.port(), db_path, templates_path, GIFTGATE_SOURCE_DIR, extra);
    std::string error;
    auto config = find_config(config_path, &error);
    INFO(error);
    REQUIRE(config);
    auto db = test::open_campaign_db(db_path);
    Importer importer(*db, *config, {"import", "e2e"});
    std::string csv = "msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                      "13900000001,beijing,en,6000\n";
    for (int i = 2; i < members; ++i) csv += fmt::format("1370000{:04},beijing,zh,20000\n", i);
    REQUIRE(importer.members(csv, "members.csv").status == ImportResult::Status::ok);
    REQUIRE(importer
                .merchants("id,name,city,kind,level,phones,offer_a,offer_b\n"
                           "bj-1,Star KTV,beijing,ktv,high,13911111111,5 hours,2 hours\n"
                           "bj-2,Sky Cinema,beijing,cinema,low,13911111112,8 tickets,4 tickets\n",
                           "merchants.csv")
                .status == ImportResult::Status::ok);
    Vouchers v(*db, config->campaign);
    REQUIRE(v.set_stock("A", "beijing", 200, {"e2e", "e2e"}));
    REQUIRE(v.set_stock("B", "beijing", 100, {"e2e", "e2e"}));
  }

  void start() {
    daemon = std::make_unique<test::DaemonProcess>(
        GIFTGATE_GIFTGATED, std::vector<std::string>{"--config", config_path},
        dir.file("giftgated.log"));
    ++starts;
    const auto bound = sim.wait_for("bind", 10s);
    REQUIRE_MESSAGE(bound, daemon->log());
  }

  void mo(const std::string& from, const std::string& text) {
    sim.command("mo src=" + from + " dst=12580 text=" + SimProcess::encode(text));
  }
  // The next whole SMS the simulator received for `to` (USSD screens are
  // waited for with screen()).
  std::string reply(const std::string& to, std::chrono::milliseconds timeout = 10s) {
    const auto m = sim.wait_for("message", timeout, [&](const SimProcess::Event& e) {
      return e.fields.count("dst") && e.fields.at("dst") == to && !e.fields.count("ussd_op");
    });
    REQUIRE_MESSAGE(m, daemon->log());
    return m->fields.at("text");
  }
  std::string ask(const std::string& from, const std::string& text) {
    mo(from, text);
    return reply(from);
  }
  // USSD, with the simulator as the centre.
  void dial(const std::string& from, const std::string& code) {
    sim.command("dial src=" + from + " code=" + SimProcess::encode(code));
  }
  void press(const std::string& from, const std::string& text) {
    sim.command("press src=" + from + " text=" + SimProcess::encode(text));
  }
  // The next USSD screen for `to`.
  SimProcess::Event screen(const std::string& to, std::chrono::milliseconds timeout = 10s) {
    const auto e = sim.wait_for("ussd_screen", timeout, [&](const SimProcess::Event& ev) {
      return ev.fields.count("dst") && ev.fields.at("dst") == to;
    });
    REQUIRE_MESSAGE(e, daemon->log());
    return *e;
  }
  // Edits the configuration file before start(): replaces `from` with `to`.
  void edit_config(const std::string& from, const std::string& to) {
    std::string text = read_file(config_path);
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(config_path, std::ios::trunc) << text;
  }

  // Serves metrics on a free loopback port (call before start()).
  void enable_metrics() {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
    metrics_port = ntohs(addr.sin_port);
    ::close(probe);
    edit_config("metrics:\n  port: 0\n", fmt::format("metrics:\n  port: {}\n", metrics_port));
  }

  // The metrics page once it lists `name` (bounded: 5 s), else what it was.
  std::string metrics(const std::string& name) {
    std::string body;
    for (int attempt = 0; attempt < 50 && body.find(name) == std::string::npos; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(100ms);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(metrics_port));
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      body.clear();
      if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
        CHECK(::write(s, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
        char buf[4096];
        ssize_t n;
        while ((n = ::read(s, buf, sizeof buf)) > 0) body.append(buf, static_cast<std::size_t>(n));
      }
      ::close(s);
    }
    return body;
  }

  // One counter's value from the metrics page (-1 if it is not there).
  std::int64_t metric(const std::string& line_start) {
    const std::string body = metrics(line_start);
    const auto at = body.find("\n" + line_start + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(body.substr(at + line_start.size() + 2));
  }

  std::int64_t value(const std::string& sql) {
    auto db = test::open_campaign_db(db_path);
    auto q = db->prepare(sql);
    return q.step() == giftgate::db::StepResult::row ? q.column_int(0) : -1;
  }
  bool wait_value(const std::string& sql, std::int64_t want, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (value(sql) == want) return true;
      std::this_thread::sleep_for(100ms);
    }
    return value(sql) == want;
  }
};

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

inline std::string code_in(const std::string& text) {
  for (std::size_t i = 0; i + 10 <= text.size(); ++i) {
    const auto c = text.substr(i, 10);
    if (std::isupper(static_cast<unsigned char>(c[0])) && std::isupper(static_cast<unsigned char>(c[1])) &&
        c.find_first_not_of("0123456789", 2) == std::string::npos)
      return c;
  }
  return {};
}


}  // namespace giftgate::e2e
