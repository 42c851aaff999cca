// The table's rows of giftgated's own: routing, the outbox, the process,
// logging, metrics, the HTTP API, storage and templates.
#include "daemon/config/settings_rows.hpp"

#include "daemon/config/setting_kinds.hpp"

namespace giftgate {
using namespace setting_kinds;

void add_daemon_settings(std::vector<Setting>& t) {
  constexpr auto applied = Reload::applied;
  constexpr auto restart = Reload::restart;
  // Read at each reply: a reload applies it.
  t.push_back(flag("routing.reply_via_origin", true, applied,
                   "Send a reply through the SMSC its MO came from while that one has room.",
                   [](auto& c) -> auto& { return c.daemon.reply_via_origin; }));

  // The outbox's policy is read at each step: a reload applies it.
  t.push_back(number("outbox.max_attempts", 3, 1, 20, applied,
                     "Submits per message, the first included.",
                     [](auto& c) -> auto& { return c.daemon.resend.max_attempts; }));
  t.push_back(number("outbox.first_resend_seconds", 60, 1, 86400, applied,
                     "The wait before the first resend; each further one doubles.",
                     [](auto& c) -> auto& { return c.daemon.resend.first_delay; }));
  t.push_back(number("outbox.receipt_timeout_seconds", 600, 1, 7 * 86400, applied,
                     "No receipt this long after a submit: a failed attempt.",
                     [](auto& c) -> auto& { return c.daemon.resend.receipt_timeout; }));
  t.push_back(number("outbox.mo_dedupe_seconds", 120, 1, 3600, applied,
                     "A repeated MO on a new connection this soon is a redelivery.",
                     [](auto& c) -> auto& { return c.daemon.mo_dedupe_seconds; }));

  t.push_back(plain_text("daemon.pid_file", "", "a path, or empty: none", restart,
                         "Where giftgated writes its process id.",
                         [](auto& c) -> auto& { return c.daemon.pid_file; }));
  t.push_back(number("daemon.drain_seconds", 10, 0, 600, applied,
                     "On SIGTERM, how long to let submits in flight finish.",
                     [](auto& c) -> auto& { return c.daemon.drain; }));

  // Each log::Logger copy holds its threshold: a new one needs a restart.
  t.push_back(choice<std::string>(
      "logging.level", "info",
      {{"debug", "debug"}, {"info", "info"}, {"warning", "warning"}, {"error", "error"}},
      restart, "The least severe events logged.",
      [](auto& c) -> auto& { return c.daemon.log_level; }));

  t.push_back(text("metrics.listen", "127.0.0.1", "127.0.0.1, ::1 or localhost", restart,
                   "The Prometheus endpoint's address, loopback only.",
                   [](auto& c) -> auto& { return c.daemon.metrics_listen; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.daemon.metrics_listen = v;
                     if (v == "127.0.0.1" || v == "::1" || v == "localhost") return std::string();
                     return std::string("metrics are served on loopback only (127.0.0.1 or ::1)");
                   }));
  t.push_back(number("metrics.port", 9464, 0, 65535, restart,
                     "The Prometheus endpoint's port; 0: none.",
                     [](auto& c) -> auto& { return c.daemon.metrics_port; }));

  // The HTTP API is opened at start: every api.* setting needs a restart.
  t.push_back(plain_text("api.listen", "", "an address, or empty: no API", restart,
                         "The HTTP API's address; plain HTTP only on loopback, else TLS.",
                         [](auto& c) -> auto& { return c.daemon.api.listen; }));
  t.push_back(number("api.port", 8443, 0, 65535, restart, "The HTTP API's port.",
                     [](auto& c) -> auto& { return c.daemon.api.port; }));
  t.push_back(plain_text("api.tls_certificate", "", "a PEM file, or empty: plain HTTP",
                         restart, "The certificate chain the API presents.",
                         [](auto& c) -> auto& { return c.daemon.api.tls_certificate; }));
  t.push_back(plain_text("api.tls_key", "", "a PEM file, or empty: plain HTTP", restart,
                         "The private key of that certificate.",
                         [](auto& c) -> auto& { return c.daemon.api.tls_key; }));
  t.push_back(number("api.max_connections", 256, 1, 100000, restart,
                     "Connections open at once; the next is answered 503 and closed.",
                     [](auto& c) -> auto& { return c.daemon.api.max_connections; }));
  t.push_back(number("api.max_header_bytes", 8192, 1024, 1048576, restart,
                     "The request line and headers at most; more is answered 431.",
                     [](auto& c) -> auto& { return c.daemon.api.max_header_bytes; }));
  t.push_back(number("api.max_body_bytes", 65536, 1024, 16777216, restart,
                     "A request's body at most; more is answered 413.",
                     [](auto& c) -> auto& { return c.daemon.api.max_body_bytes; }));
  t.push_back(number("api.request_timeout_ms", 10000, 100, 600000, restart,
                     "How long a client has to send a whole request (and a TLS handshake).",
                     [](auto& c) -> auto& { return c.daemon.api.request_timeout; }));
  t.push_back(number("api.idle_timeout_seconds", 30, 1, 3600, restart,
                     "A keep-alive connection with no request this long is closed.",
                     [](auto& c) -> auto& { return c.daemon.api.idle_timeout; }));
  t.push_back(number("api.key_rate", 200, 1, 1000000, restart,
                     "Requests a second one API key may make; past it, 429 with Retry-After.",
                     [](auto& c) -> auto& { return c.daemon.api.key_rate; }));
  t.push_back(number("api.key_burst", 400, 1, 1000000, restart,
                     "Requests one API key may make at once above its rate.",
                     [](auto& c) -> auto& { return c.daemon.api.key_burst; }));

  t.push_back(plain_text("storage.path", "/var/lib/giftgate/giftgate.db", "a path", restart,
                         "The campaign database.",
                         [](auto& c) -> auto& { return c.db_path; }, 1));
  t.push_back(number("storage.busy_timeout_ms", 5000, 0, 600000, restart,
                     "How long a writer waits for another before the database is busy.",
                     [](auto& c) -> auto& { return c.busy_timeout; }));

  t.push_back(plain_text("templates.path", "/etc/giftgate/messages.yaml", "a path", applied,
                         "The messages file: every SMS text.",
                         [](auto& c) -> auto& { return c.templates_path; }, 1));
  t.push_back(number("templates.max_parts", 3, 1, 10, applied,
                     "The most SMS parts one message may take.",
                     [](auto& c) -> auto& { return c.max_parts; }));
}

}  // namespace giftgate
