// giftgated: the campaign gateway daemon. See man/giftgated.8.
//
// Exit status: 0 after a clean stop (SIGTERM, SIGINT) or a good
// --check-config; 1 when it cannot run (database, another giftgated on it,
// port); 2 for bad usage or a bad configuration or messages file.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "daemon/config/config.hpp"
#include "daemon/config/settings_table.hpp"
#include "daemon/storage/daemon_lock.hpp"
#include "daemon/gateway/gateway.hpp"
#include "daemon/gateway/metrics.hpp"
#include "daemon/storage/schema.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/campaign/ussd_menus.hpp"
#include "protocol/log.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: giftgated [--config FILE] [--db PATH] [--check-config]
       giftgated --print-settings [text|man]

  --config FILE    the configuration (default: $GIFTGATE_CONFIG, else
                   /etc/giftgate/giftgate.yaml if present, else built-in)
  --db PATH        the campaign database instead of storage.path
  --check-config   load the configuration and the messages file, report, exit
  --print-settings every setting with its default, allowed values and
                   whether SIGHUP applies it (man: as giftgate.yaml(5) has it)
  --help           this text

Signals: SIGHUP reloads the configuration, messages and menus, applies every
setting that allows it and logs each changed one that needs a restart;
SIGTERM and SIGINT drain, unbind and exit 0.
)";

// The USSD menus the configuration names, or null when USSD is off; false
// with `error` when they are on and the file does not load.
bool load_menus(const giftgate::Config& config, std::shared_ptr<const giftgate::UssdMenus>* menus,
                std::string* error) {
  *menus = nullptr;
  if (!config.ussd.enabled) return true;
  *menus = giftgate::UssdMenus::load(config.ussd, error);
  return *menus != nullptr;
}

// The process id a pid file holds, or 0.
pid_t pid_in_file(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  return in >> pid ? static_cast<pid_t>(pid) : 0;
}

int fail(int code, const std::string& message) {
  fmt::print(stderr, "giftgated: {}\n", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace giftgate;
  std::string config_arg, db_arg;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--print-settings") {
      const std::string format =
          i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--" ? argv[++i] : "text";
      if (format != "text" && format != "man")
        return fail(2, fmt::format("--print-settings takes text or man, not '{}'", format));
      std::cout << settings_reference(format == "man" ? SettingsFormat::man : SettingsFormat::text);
      return 0;
    }
    if (a == "--check-config") check_only = true;
    else if ((a == "--config" || a == "--db") && i + 1 < argc) (a == "--config" ? config_arg : db_arg) = argv[++i];
    else return fail(2, fmt::format("unknown or incomplete argument '{}'\n{}", a, kUsage));
  }

  std::string error;
  auto config = find_config(config_arg, &error);
  if (!config) return fail(2, error);
  if (!db_arg.empty()) config->db_path = db_arg;
  // Only systemd sets $CREDENTIALS_DIRECTORY; a check by hand goes on without it.
  if (const auto missing = missing_credentials(*config); !check_only && !missing.empty()) {
    for (const auto& why : missing) fail(2, why);
    return 2;
  }
  auto templates = Templates::load(config->templates_path, config->max_parts, &error);
  if (!templates) return fail(2, error);
  std::shared_ptr<const UssdMenus> menus;
  if (!load_menus(*config, &menus, &error)) return fail(2, error);
  if (check_only) {
    for (const auto& warning : config_warnings(*config))
      fmt::print(stderr, "{}: warning: {}\n", config->source, warning);
    std::string smscs;
    for (const auto& smsc : config->daemon.smscs)
      smscs += fmt::format(
          "SMSC {} {}:{}{}, {} bind{}{}; ", smsc.id, smsc.session.host, smsc.session.port,
          smsc.session.tls.enabled ? " (TLS)" : "", smsc.binds, smsc.binds == 1 ? "" : "s",
          smsc.password_credential.empty()
              ? ""
              : fmt::format(" (password: credential {}, read under systemd)",
                            smsc.password_credential));
    fmt::print("{}: ok; {}: ok; {}; {}database {}\n", config->source, config->templates_path,
               menus ? config->ussd.menus_path + ": ok" : std::string("USSD off"), smscs,
               config->db_path);
    return 0;
  }

  log::Level level = log::Level::info;
  log::parse_level(config->daemon.log_level, level);
  log::Logger logger(std::make_shared<log::StderrSink>(), level);

  // Before anything of the database, the outbox or the pid file is touched:
  // a second daemon on the same database stops here, naming the first.
  const auto lock = DaemonLock::acquire(config->db_path, &error);
  if (!lock) return fail(1, error);
  auto db = db::Database::open({config->db_path, config->busy_timeout}, schema_migrations(), &error);
  if (!db) return fail(1, error);
  // Checkpoints run beside the daemon's thread, every 100 ms. The log is
  // only started afresh by a transaction that begins when everything in it
  // has been copied, which under steady writes (a new batch opens right
  // after each commit) seldom happens: so the daemon's own commits still
  // checkpoint every 8,000 pages (32 MB), with little left to copy by then.
  // That bounds the log's size on disk. Each such commit takes 5 to 15 ms,
  // so they are kept rare: at 1,000 MO/s about one every 0.8 s.
  db::Checkpointer checkpointer(config->db_path, std::chrono::milliseconds(100));
  db->set_checkpoint_pages(8000);

  // Two threads: this one runs the Gateway (the database, the metrics
  // endpoint, signals); `net` runs the SMPP sessions' sockets and PDUs.
  boost::asio::io_context net;
  boost::asio::io_context io;
  Gateway gateway(io, net.get_executor(), *config, *db, templates, menus, logger);
  std::unique_ptr<MetricsServer> metrics;
  if (config->daemon.metrics_port != 0) {
    try {
      metrics = std::make_unique<MetricsServer>(io, config->daemon.metrics_listen,
                                                config->daemon.metrics_port,
                                                [&gateway] { return gateway.metrics_text(); });
      metrics->add_page("/status", [&gateway] { return gateway.status_text(); });
    } catch (const std::exception& e) {
      return fail(1, fmt::format("metrics on {}:{}: {}", config->daemon.metrics_listen,
                                 config->daemon.metrics_port, e.what()));
    }
  }
  // The HTTP API: its sockets and TLS on a thread of their own (`web`), so
  // handshakes never hold up the SMPP sessions or the database; each whole
  // request is handed to the gateway's thread (Gateway::serve_api).
  boost::asio::io_context web;
  std::unique_ptr<http::Server> api;
  if (const auto& a = config->daemon.api; !a.listen.empty()) {
    std::optional<http::TlsFiles> tls;
    if (!a.tls_certificate.empty() || !a.tls_key.empty())
      tls = http::TlsFiles{a.tls_certificate, a.tls_key};
    http::Limits limits;
    limits.max_connections = a.max_connections;
    limits.max_header_bytes = a.max_header_bytes;
    limits.max_body_bytes = a.max_body_bytes;
    limits.request_timeout = a.request_timeout;
    limits.idle_timeout = a.idle_timeout;
    api = http::Server::start(
        web, a.listen, a.port, tls, limits,
        [&gateway](http::Request request, http::Respond respond) {
          gateway.serve_api(std::move(request), std::move(respond));
        },
        logger.child({{"part", "http"}}), &error);
    if (!api) return fail(1, fmt::format("api on {}:{}: {}", a.listen, a.port, error));
  }
  if (!config->daemon.pid_file.empty()) {
    std::ofstream pid(config->daemon.pid_file, std::ios::trunc);
    pid << ::getpid() << "\n";
    if (!pid) return fail(1, fmt::format("{}: cannot be written", config->daemon.pid_file));
  }

  boost::asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
  bool stopping = false;
  // The configuration in force: the start's, with each reload's reloadable
  // settings (what needs a restart stays as it was started).
  Config running = *config;
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        std::string why;
        auto fresh = find_config(config_arg, &why);
        if (fresh && !db_arg.empty()) fresh->db_path = db_arg;
        const auto fresh_templates =
            fresh ? Templates::load(fresh->templates_path, fresh->max_parts, &why) : nullptr;
        std::shared_ptr<const UssdMenus> fresh_menus;
        if (fresh_templates && load_menus(*fresh, &fresh_menus, &why)) {
          // By name only: a value may be a password.
          for (const auto& change : changed_settings(running, *fresh)) {
            if (change.reload == Reload::restart)
              logger.warning("setting_needs_restart",
                             {{"name", change.name}, {"kept", "the value in force"}});
            else
              logger.info("setting_applied", {{"name", change.name}});
          }
          running = with_reloadable(running, *fresh);
          gateway.apply_settings(running, fresh_templates, fresh_menus);
        } else {
          logger.error("reload_refused",
                       {{"reason", why}, {"kept", "the configuration, templates and menus in force"}});
        }
      } else if (!stopping) {
        stopping = true;
        logger.info("stopping", {{"signal", signo == SIGTERM ? "TERM" : "INT"}});
        if (metrics) metrics->close();
        if (api) boost::asio::post(web, [&api] { api->close(); });
        gateway.stop([&] {
          signals.cancel();
          io.stop();
        });
      } else {
        // A second stop signal: no more draining. What was not committed is
        // delivered again by the SMSC, and submits in doubt are picked up at
        // the next start, as after a crash.
        logger.warning("stopping_now", {{"signal", signo == SIGTERM ? "TERM" : "INT"}});
        signals.cancel();
        io.stop();
        return;
      }
      wait_signal();
    });
  };
  wait_signal();

  // Where each SMSC is and how many binds it gets; never its password.
  for (const auto& smsc : config->daemon.smscs)
    logger.info("smsc_configured",
                {{"smsc", smsc.id},
                 {"address", fmt::format("{}:{}", smsc.session.host, smsc.session.port)},
                 {"tls", smsc.session.tls.enabled},
                 {"binds", smsc.binds},
                 {"bind", smsc.split_bind ? "transmitter_and_receiver" : "transceiver"}});
  logger.info("started", {{"config", config->source},
                          {"database", config->db_path},
                          {"smscs", config->daemon.smscs.size()},
                          {"metrics_port", metrics ? metrics->port() : 0},
                          {"api_port", api ? api->port() : 0},
                          {"api_tls", config->daemon.api.tls_certificate.empty() ? "no" : "yes"}});
  auto net_work = boost::asio::make_work_guard(net);
  std::thread net_thread([&net] { net.run(); });
  auto web_work = boost::asio::make_work_guard(web);
  std::thread web_thread([&web] { web.run(); });
  gateway.start();
  io.run();  // until the gateway has stopped, the link with it
  net_work.reset();
  net.stop();
  net_thread.join();
  web_work.reset();
  web.stop();
  web_thread.join();
  // Only the file this process wrote: another giftgated (on another
  // database) may have written the same path since.
  const auto& pid_file = config->daemon.pid_file;
  if (!pid_file.empty() && pid_in_file(pid_file) == ::getpid()) std::remove(pid_file.c_str());
  logger.info("stopped");
  return 0;
}
