#include "daemon/config/settings_table.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "protocol/ussd.hpp"

namespace giftgate {
namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int32_t>::max();
// The most max_points_change and max_balance may be set to: the 8 digits
// the message templates are checked with for a balance or a price
// (longest_value in templates.cpp), far inside what 64 bits hold.
constexpr std::int64_t kMaxPoints = 99'999'999;

template <class T>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

// A whole number into its field; a duration in the unit the key's name
// ends with (_ms, _minutes, else seconds).
template <class T>
void assign_number(T& field, std::int64_t v, std::string_view name) {
  if constexpr (is_duration<T>::value) {
    using namespace std::chrono;
    if (name.ends_with("_ms")) field = duration_cast<T>(milliseconds(v));
    else if (name.ends_with("_minutes")) field = duration_cast<T>(minutes(v));
    else field = duration_cast<T>(seconds(v));
  } else {
    field = static_cast<T>(v);
  }
}

// `get` returns the field of a Config (const or not): comparing and copying
// come from it.
template <class Get>
void compare_by(Setting& s, Get get) {
  s.same = [get](const Config& a, const Config& b) { return get(a) == get(b); };
  s.copy = [get](Config& to, const Config& from) { get(to) = get(from); };
}

template <class Get>
Setting number(std::string name, std::int64_t def, std::int64_t min, std::int64_t max,
               Reload reload, std::string help, Get get) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::integer;
  s.default_value = std::to_string(def);
  s.min = min;
  s.max = max;
  s.allowed = fmt::format("{} to {}", min, max);
  s.help = std::move(help);
  s.reload = reload;
  s.store = [get, name = s.name](Config& c, const SettingValue& v) {
    assign_number(get(c), v.number, name);
    return std::string();
  };
  compare_by(s, get);
  return s;
}

template <class Get>
Setting flag(std::string name, bool def, Reload reload, std::string help, Get get) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::flag;
  s.default_value = def ? "true" : "false";
  s.allowed = "true or false";
  s.help = std::move(help);
  s.reload = reload;
  s.store = [get](Config& c, const SettingValue& v) {
    get(c) = v.flag;
    return std::string();
  };
  compare_by(s, get);
  return s;
}

// "a, b or c"
std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

// One of a few names, each standing for a value of the field.
template <class V, class Get>
Setting choice(std::string name, std::string def, std::vector<std::pair<std::string, V>> values,
               Reload reload, std::string help, Get get) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::choice;
  s.default_value = std::move(def);
  for (const auto& [text, value] : values) s.choices.push_back(text);
  s.allowed = one_of(s.choices);
  s.help = std::move(help);
  s.reload = reload;
  s.store = [get, values, key = std::string(s.key()), allowed = s.allowed](
                Config& c, const SettingValue& v) {
    for (const auto& [text, value] : values)
      if (text == v.text) {
        get(c) = value;
        return std::string();
      }
    return fmt::format("{} must be {}", key, allowed);
  };
  compare_by(s, get);
  return s;
}

// Text, checked by `check` (an error, or empty) and stored by `put`;
// compared through `get`.
template <class Get, class Put>
Setting text(std::string name, std::string def, std::string allowed, Reload reload,
             std::string help, Get get, Put put) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::text;
  s.default_value = std::move(def);
  s.allowed = std::move(allowed);
  s.help = std::move(help);
  s.reload = reload;
  s.store = [put, key = std::string(s.key())](Config& c, const SettingValue& v) {
    return put(c, v.text, key);
  };
  compare_by(s, get);
  return s;
}

// Text stored as it is, with at least `min_chars` and at most `max_chars`.
template <class Get>
Setting plain_text(std::string name, std::string def, std::string allowed, Reload reload,
                   std::string help, Get get, std::size_t min_chars = 0,
                   std::size_t max_chars = std::string::npos) {
  return text(std::move(name), std::move(def), std::move(allowed), reload, std::move(help), get,
              [get, min_chars, max_chars](Config& c, const std::string& v, const std::string& key) {
                get(c) = v;
                if (v.size() >= min_chars && v.size() <= max_chars) return std::string();
                if (max_chars == std::string::npos) return fmt::format("{} must not be empty", key);
                return fmt::format("{} must have {} to {} characters", key, min_chars, max_chars);
              });
}

// A time in the campaign's zone (read before it in table order).
template <class Get>
Setting local_time(std::string name, std::string def, std::string help, Get get) {
  return text(std::move(name), def, "a time like 2026-10-01 00:00, in campaign.time_zone",
              Reload::applied, std::move(help), get,
              [get, def](Config& c, const std::string& v, const std::string& key) {
                const std::string& given = v.empty() ? def : v;
                if (given.empty()) {
                  get(c) = {};
                  return std::string();
                }
                std::string why;
                const auto t = parse_local_time(given, c.time_zone, &why);
                if (!t && !why.empty())
                  return fmt::format("{} ({}) is no time: {}", key, given, why);
                if (!t)
                  return fmt::format("{} must be a time like 2026-10-01 00:00, not '{}'", key,
                                     given);
                get(c) = *t;
                return std::string();
              });
}

template <class Get>
Setting month(std::string name, std::string help, Get get) {
  return text(std::move(name), "", "empty, or a month like 2026-10", Reload::applied,
              std::move(help), get,
              [get](Config& c, const std::string& v, const std::string& key) {
                get(c).clear();  // empty: the campaign's own (parse_config fills it in)
                if (v.empty()) return std::string();
                const auto m = parse_month(v);
                if (!m) return fmt::format("{} must be a month like 2026-10, not '{}'", key, v);
                get(c) = *m;
                return std::string();
              });
}

template <class Get>
Setting ussd_op(std::string name, std::string def, std::string help, Get get) {
  return text(std::move(name), std::move(def), "an ussd_service_op: a name, or 0 to 255",
              Reload::applied, std::move(help), get,
              [get](Config& c, const std::string& v, const std::string& key) {
                const auto op = smpp::parse_ussd_op(v);
                if (!op)
                  return fmt::format(
                      "{} must be an ussd_service_op: a name like pssr_indication, or 0 to 255",
                      key);
                get(c) = *op;
                return std::string();
              });
}

// How password_file names a credential systemd hands the unit
// (LoadCredential=): "$CREDENTIALS_DIRECTORY/smsc-password".
constexpr std::string_view kCredentials = "$CREDENTIALS_DIRECTORY/";

// The SMSC password from the first line of password_file. Like ssh with a
// private key, a file that group or others may read or write is refused
// rather than used. A credential is read only where systemd has set
// $CREDENTIALS_DIRECTORY; elsewhere (giftctl, a check by hand) it is left
// for giftgated's start, which refuses to run without it.
std::string read_password_file(std::string path, DaemonSettings& d) {
  if (path.starts_with(kCredentials)) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir) {
      d.smsc.password_credential = path.substr(kCredentials.size());
      return {};
    }
    path = fmt::format("{}/{}", dir, path.substr(kCredentials.size()));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fmt::format("{} cannot be read", path);
  struct stat st {};
  std::string text, error;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = fmt::format("{} cannot be read", path);
  } else if ((st.st_mode & 077) != 0) {
    error = fmt::format("{} has mode {:04o}: a password file must be closed to group and "
                        "others (chmod 600 {}, or hand it over with systemd's "
                        "LoadCredential=); not used",
                        path, st.st_mode & 07777, path);
  } else {
    char buf[512];  // the password is on the first line, 8 characters at most
    ssize_t n = 0;
    while (text.find('\n') == std::string::npos && text.size() < 4096 &&
           (n = ::read(fd, buf, sizeof buf)) > 0)
      text.append(buf, static_cast<std::size_t>(n));
    if (n < 0 || text.empty()) error = fmt::format("{} cannot be read", path);
  }
  ::close(fd);
  if (!error.empty()) return error;
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.size() > 8) return "an SMPP password has at most 8 characters";
  d.smsc.session.password = line;
  return {};
}

std::vector<Setting> make_table() {
  constexpr auto applied = Reload::applied;
  constexpr auto restart = Reload::restart;
  using smpp::IdFormat;
  const std::vector<std::pair<std::string, IdFormat>> id_formats = {
      {"auto", IdFormat::automatic}, {"decimal", IdFormat::decimal}, {"hex", IdFormat::hex},
      {"as_is", IdFormat::as_is}};
  std::vector<Setting> t;

  // The SMSC: the bind is made at start, so all of it needs a restart.
  // (Each entry of `smscs:` is read through these rows too, without the
  // "smsc." in front.)
  t.push_back(text("smsc.id", "smsc", "1 to 16 letters, digits, - or _", restart,
                   "Names this SMSC in metrics, logs, status and the database.",
                   [](auto& c) -> auto& { return c.daemon.smsc.id; },
                   [](Config& c, const std::string& v, const std::string& key) {
                     c.daemon.smsc.id = v;
                     // It is a metric label and a key in the database: no
                     // quoting anywhere.
                     const bool plain = std::all_of(v.begin(), v.end(), [](char ch) {
                       return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
                     });
                     if (!v.empty() && v.size() <= 16 && plain) return std::string();
                     return fmt::format("{} must have 1 to 16 letters, digits, - or _, not '{}'",
                                        key, v);
                   }));
  t.push_back(plain_text("smsc.host", "127.0.0.1", "a host name or address", restart,
                         "Where the operator's SMSC listens.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.host; }));
  t.push_back(number("smsc.port", 2775, 1, 65535, restart, "The SMSC's port.",
                     [](auto& c) -> auto& { return c.daemon.smsc.session.port; }));
  t.push_back(flag("smsc.tls.enabled", false, restart, "Connect with TLS.",
                   [](auto& c) -> auto& { return c.daemon.smsc.session.tls.enabled; }));
  t.push_back(flag("smsc.tls.verify", true, restart, "Check the SMSC's certificate and name.",
                   [](auto& c) -> auto& { return c.daemon.smsc.session.tls.verify; }));
  t.push_back(plain_text("smsc.tls.ca_file", "", "a PEM file; empty: the system's", restart,
                         "The certificates to check the SMSC's against.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.tls.ca_file; }));
  t.push_back(plain_text("smsc.tls.server_name", "", "a host name; empty: smsc.host", restart,
                         "The name to check the certificate for, and to send as SNI.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.tls.server_name; }));
  t.push_back(plain_text("smsc.tls.cert_file", "", "a PEM file, or empty", restart,
                         "A client certificate, if the SMSC asks for one.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.tls.cert_file; }));
  t.push_back(plain_text("smsc.tls.key_file", "", "a PEM file, or empty", restart,
                         "The client certificate's key.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.tls.key_file; }));
  t.push_back(plain_text("smsc.system_id", "giftgate", "1 to 15 characters", restart,
                         "The bind's system_id.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.system_id; }, 1, 15));
  t.push_back(text("smsc.password", "", "at most 8 characters", restart,
                   "The bind's password (better: smsc.password_file).",
                   [](auto& c) -> auto& { return c.daemon.smsc.session.password; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.daemon.smsc.session.password = v;
                     return v.size() > 8 ? std::string("an SMPP password has at most 8 characters")
                                         : std::string();
                   }));
  {
    auto file = text("smsc.password_file", "",
                     "a file only its owner may read, or $CREDENTIALS_DIRECTORY/NAME", restart,
                     "A file holding the bind's password on its first line.",
                     [](auto& c) -> auto& { return c.daemon.smsc.password_credential; },
                     [](Config& c, const std::string& v, const std::string&) {
                       c.daemon.smsc.password_credential.clear();
                       if (v.empty()) return std::string();
                       if (!c.daemon.smsc.session.password.empty())
                         return std::string("give password or password_file, not both");
                       return read_password_file(v, c.daemon);
                     });
    // What it gives: the password read, or the credential left for systemd.
    file.same = [](const Config& a, const Config& b) {
      return a.daemon.smsc.session.password == b.daemon.smsc.session.password &&
             a.daemon.smsc.password_credential == b.daemon.smsc.password_credential;
    };
    file.copy = [](Config& to, const Config& from) {
      to.daemon.smsc.session.password = from.daemon.smsc.session.password;
      to.daemon.smsc.password_credential = from.daemon.smsc.password_credential;
    };
    t.push_back(std::move(file));
  }
  t.push_back(plain_text("smsc.system_type", "", "text, or empty", restart,
                         "The bind's system_type.",
                         [](auto& c) -> auto& { return c.daemon.smsc.session.system_type; }));
  t.push_back(choice<bool>("smsc.bind", "transceiver",
                           {{"transceiver", false}, {"transmitter_and_receiver", true}}, restart,
                           "One connection, or two.",
                           [](auto& c) -> auto& { return c.daemon.smsc.split_bind; }));
  t.push_back(number("smsc.binds", 1, 1, 64, restart,
                     "Binds to open, each a transceiver or a transmitter and receiver pair.",
                     [](auto& c) -> auto& { return c.daemon.smsc.binds; }));
  t.push_back(plain_text("smsc.source_addr", "12580", "1 to 20 characters", restart,
                         "The address members text and replies come from.",
                         [](auto& c) -> auto& { return c.daemon.smsc.source_addr; }, 1, 20));
  t.push_back(number("smsc.source_ton", 0, 0, 6, restart, "The source address's TON.",
                     [](auto& c) -> auto& { return c.daemon.smsc.source_ton; }));
  t.push_back(number("smsc.source_npi", 0, 0, 18, restart, "The source address's NPI.",
                     [](auto& c) -> auto& { return c.daemon.smsc.source_npi; }));
  t.push_back(number("smsc.window", 10, 1, 1000, restart,
                     "Submits sent and not yet answered, on each bind.",
                     [](auto& c) -> auto& { return c.daemon.smsc.session.window; }));
  {
    auto rate = number("smsc.rate", 50, 0, 100000, restart,
                       "submit_sm per second, the SMSC's limit, shared by its binds; 0: none.",
                       [](auto& c) -> auto& { return c.daemon.smsc.session.rate; });
    rate.store = [](Config& c, const SettingValue& v) {
      c.daemon.smsc.session.rate = static_cast<double>(v.number);
      c.daemon.smsc.session.burst = std::max(1.0, c.daemon.smsc.session.rate / 10);
      return std::string();
    };
    rate.copy = [](Config& to, const Config& from) {
      to.daemon.smsc.session.rate = from.daemon.smsc.session.rate;
      to.daemon.smsc.session.burst = from.daemon.smsc.session.burst;
    };
    t.push_back(std::move(rate));
  }
  t.push_back(number("smsc.enquire_link_seconds", 30, 1, 3600, restart,
                     "The keep-alive interval.",
                     [](auto& c) -> auto& { return c.daemon.smsc.session.enquire_link_interval; }));
  t.push_back(number("smsc.response_timeout_seconds", 10, 1, 600, restart,
                     "How long to wait for any response.",
                     [](auto& c) -> auto& { return c.daemon.smsc.session.response_timeout; }));
  t.push_back(number("smsc.reconnect_max_seconds", 60, 1, 3600, restart,
                     "The longest pause between reconnection attempts.",
                     [](auto& c) -> auto& { return c.daemon.smsc.session.reconnect_max; }));
  t.push_back(choice<IdFormat>("smsc.message_ids", "auto", id_formats, restart,
                               "How the SMSC writes message ids in submit_sm_resp.",
                               [](auto& c) -> auto& { return c.daemon.smsc.response_ids; }));
  t.push_back(choice<IdFormat>("smsc.receipt_ids", "auto", id_formats, restart,
                               "How the SMSC writes message ids in receipts.",
                               [](auto& c) -> auto& { return c.daemon.smsc.receipt_ids; }));
  t.push_back(flag("smsc.receipt_check_recipient", true, restart,
                   "Apply a receipt only to a message sent to its source address.",
                   [](auto& c) -> auto& { return c.daemon.smsc.receipt_check_recipient; }));
  t.push_back(choice<smpp::DefaultAlphabet>(
      "smsc.default_alphabet", "gsm7",
      {{"gsm7", smpp::DefaultAlphabet::gsm7_unpacked},
       {"gsm7_packed", smpp::DefaultAlphabet::gsm7_packed},
       {"latin1", smpp::DefaultAlphabet::latin1},
       {"ascii", smpp::DefaultAlphabet::ascii}},
      restart, "What data_coding 0 means to this SMSC.",
      [](auto& c) -> auto& { return c.daemon.smsc.alphabet; }));
  t.push_back(flag("smsc.ussd_same_bind", false, restart,
                   "Answer a USSD step on the bind it came from, not any of this SMSC's.",
                   [](auto& c) -> auto& { return c.daemon.smsc.ussd_same_bind; }));

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

  // The campaign's window and rules are read at each MO; the zone is where
  // reports cut days, fixed at start.
  t.push_back(text("campaign.time_zone", "Asia/Shanghai", "an IANA zone name", restart,
                   "The zone the times below are written in.",
                   [](auto& c) -> auto& { return c.time_zone; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.time_zone = v;
                     if (known_zone(v)) return std::string();
                     return fmt::format("unknown time zone '{}' (not in /usr/share/zoneinfo)", v);
                   }));
  t.push_back(local_time("campaign.start", "2026-10-01 00:00", "Redemptions are taken from then.",
                         [](auto& c) -> auto& { return c.campaign.start; }));
  t.push_back(local_time("campaign.end", "2027-01-01 00:00", "... until just before then.",
                         [](auto& c) -> auto& { return c.campaign.end; }));
  t.push_back(number("campaign.voucher_days", 30, 1, 3650, applied,
                     "A voucher is valid this many days after issue.",
                     [](auto& c) -> auto& { return c.campaign.voucher_days; }));
  {
    auto expire = local_time("campaign.vouchers_expire", "",
                             "A fixed expiry for every voucher instead; after end.",
                             [](auto& c) -> auto& { return c.campaign.vouchers_expire_at; });
    expire.allowed = "empty, or a time like 2027-01-31 23:59, in campaign.time_zone";
    t.push_back(std::move(expire));
  }
  t.push_back(number("campaign.confirm_minutes", 10, 0, 1440, applied,
                     "How long an ask holds the offer for a confirmation; 0: none asked.",
                     [](auto& c) -> auto& { return c.campaign.confirm_minutes; }));
  t.push_back(text("campaign.default_country", "86", "a country code, 1 to 3 digits", applied,
                   "The country of national numbers.",
                   [](auto& c) -> auto& { return c.default_country; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.default_country = v;
                     if (v.empty() || v.size() > 3 ||
                         v.find_first_not_of("0123456789") != std::string::npos || v[0] == '0')
                       return std::string("default_country must be a country code like 86");
                     return std::string();
                   }));
  t.push_back(number("campaign.max_points_change", 1'000'000, 1, kMaxPoints, applied,
                     "The most points one change may add or take.",
                     [](auto& c) -> auto& { return c.campaign.points.max_change; }));
  t.push_back(number("campaign.max_balance", 10'000'000, 1, kMaxPoints, applied,
                     "The most points a member may hold.",
                     [](auto& c) -> auto& { return c.campaign.points.max_balance; }));

  t.push_back(number("verification.max_failures", 5, 0, 1000, applied,
                     "Failed verifications in the window that lock a merchant out; 0: off.",
                     [](auto& c) -> auto& { return c.campaign.guard_failures; }));
  t.push_back(number("verification.window_minutes", 10, 1, 1440, applied,
                     "The window max_failures are counted in.",
                     [](auto& c) -> auto& { return c.campaign.guard_window_minutes; }));
  t.push_back(number("verification.lockout_minutes", 30, 1, 10080, applied,
                     "How long that lock lasts.",
                     [](auto& c) -> auto& { return c.campaign.guard_lockout_minutes; }));
  t.push_back(number("verification.daily_max_failures", 20, 0, 100000, applied,
                     "Failed verifications in any 24 hours that lock a merchant out; 0: off.",
                     [](auto& c) -> auto& { return c.campaign.guard_daily_failures; }));

  // Limits are read at each MO.
  const auto limit = [&](const char* name, int def, const char* help, auto get) {
    t.push_back(number(fmt::format("limits.{}", name), def, 0, 1000000, applied, help, get));
  };
  limit("mo_per_minute", 10, "SMS from a number, per minute; 0: no limit.",
        [](auto& c) -> auto& { return c.limits.mo_per_minute; });
  limit("mo_per_day", 100, "SMS from a number, per day.",
        [](auto& c) -> auto& { return c.limits.mo_per_day; });
  limit("replies_per_minute", 10, "SMS sent to a number, per minute.",
        [](auto& c) -> auto& { return c.limits.replies_per_minute; });
  limit("replies_per_day", 100, "SMS sent to a number, per day.",
        [](auto& c) -> auto& { return c.limits.replies_per_day; });
  limit("merchant_mo_per_minute", 60, "SMS from a merchant's number, per minute.",
        [](auto& c) -> auto& { return c.limits.merchant_mo_per_minute; });
  limit("merchant_mo_per_day", 3000, "SMS from a merchant's number, per day.",
        [](auto& c) -> auto& { return c.limits.merchant_mo_per_day; });
  limit("ussd_per_minute", 20, "USSD dials and answers from a number, per minute.",
        [](auto& c) -> auto& { return c.limits.ussd_per_minute; });
  limit("ussd_per_day", 200, "USSD dials and answers from a number, per day.",
        [](auto& c) -> auto& { return c.limits.ussd_per_day; });
  limit("non_member_replies_per_day", 1, "SMS a day to a number that is no one's.",
        [](auto& c) -> auto& { return c.limits.non_member_replies_per_day; });

  // Accrual is giftctl's: it reads the file at each run.
  t.push_back(number("accrual.network_month", 100, 0, kMaxInt, applied,
                     "Points per month on the network.",
                     [](auto& c) -> auto& { return c.accrual.network_month; }));
  t.push_back(number("accrual.rbt_fee_yuan", 10, 0, kMaxInt, applied,
                     "Points per yuan of ring-back-tone fees.",
                     [](auto& c) -> auto& { return c.accrual.rbt_fee_yuan; }));
  t.push_back(number("accrual.service_use", 20, 0, kMaxInt, applied,
                     "Points per use of the club's services.",
                     [](auto& c) -> auto& { return c.accrual.service_use; }));
  t.push_back(month("accrual.first_period",
                    "The first month activity is credited for; empty: start's.",
                    [](auto& c) -> auto& { return c.accrual.first_period; }));
  t.push_back(month("accrual.last_period",
                    "The last month activity is credited for; empty: the one before end.",
                    [](auto& c) -> auto& { return c.accrual.last_period; }));

  // USSD: the menus are loaded again with the templates, the rest is read
  // at each step.
  t.push_back(flag("ussd.enabled", true, applied, "Serve dialled sessions.",
                   [](auto& c) -> auto& { return c.ussd.enabled; }));
  t.push_back(text("ussd.service_code", "*12580#", "a code like *12580#", applied,
                   "What members dial.",
                   [](auto& c) -> auto& { return c.ussd.service_code; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.ussd.service_code = v;
                     if (v.size() < 3 || v.front() != '*' || v.back() != '#' ||
                         v.find_first_not_of("0123456789*", 0) != v.size() - 1)
                       return std::string("service_code must look like *12580#");
                     return std::string();
                   }));
  t.push_back(plain_text("ussd.menus", "/etc/giftgate/menus.yaml", "a path", applied,
                         "The USSD screens file.",
                         [](auto& c) -> auto& { return c.ussd.menus_path; }, 1));
  t.push_back(number("ussd.session_timeout_seconds", 60, 5, 3600, applied,
                     "A session left this long without an answer is over.",
                     [](auto& c) -> auto& { return c.ussd.session_timeout; }));
  t.push_back(ussd_op("ussd.operations.begin", "pssr_indication", "The member dialled.",
                      [](auto& c) -> auto& { return c.ussd.op_begin; }));
  t.push_back(ussd_op("ussd.operations.continue", "ussr_confirm", "The member answered a menu.",
                      [](auto& c) -> auto& { return c.ussd.op_continue; }));
  t.push_back(ussd_op("ussd.operations.menu", "ussr_request",
                      "A menu from us: the session goes on.",
                      [](auto& c) -> auto& { return c.ussd.op_menu; }));
  t.push_back(ussd_op("ussd.operations.end", "pssr_response",
                      "A last text from us: the session ends.",
                      [](auto& c) -> auto& { return c.ussd.op_end; }));
  t.push_back(ussd_op("ussd.operations.abort", "0x81", "The centre ended the session.",
                      [](auto& c) -> auto& { return c.ussd.op_abort; }));
  t.push_back(number("ussd.max_chars_gsm", 182, 20, 182, applied,
                     "GSM characters one screen holds.",
                     [](auto& c) -> auto& { return c.ussd.max_chars_gsm; }));
  t.push_back(number("ussd.max_chars_ucs2", 80, 10, 91, applied,
                     "UCS-2 characters one screen holds.",
                     [](auto& c) -> auto& { return c.ussd.max_chars_ucs2; }));

  // Read by each prune batch: a reload applies it to the next one.
  const auto days = [&t](const char* name, std::int64_t def, std::string help, auto get) {
    t.push_back(number(fmt::format("retention.{}", name), def, 0, 36500, applied,
                       std::move(help), get));
  };
  days("message_days", 90,
       "Days after a message's final state that its body is blanked; past this and "
       "receipt_days its row moves to message_history, its final state kept. 0: never.",
       [](auto& c) -> auto& { return c.retention.message_days; });
  days("receipt_days", 90,
       "Days after which receipts, and a final message's parts, are deleted. 0: never.",
       [](auto& c) -> auto& { return c.retention.receipt_days; });
  days("inbox_days", 90,
       "Days after which MOs are deleted; at least 2, since the daily limits count the last "
       "day's MOs and redelivery detection looks back mo_dedupe_seconds. 0: never.",
       [](auto& c) -> auto& { return c.retention.inbox_days; });
  days("ussd_days", 30,
       "Days after which ended USSD sessions and their screens (without a voucher) are "
       "deleted. 0: never.",
       [](auto& c) -> auto& { return c.retention.ussd_days; });
  t.push_back(number("retention.batch_rows", 500, 10, 100000, applied,
                     "Rows one prune batch may look at (one short transaction).",
                     [](auto& c) -> auto& { return c.retention.batch_rows; }));
  t.push_back(number("retention.batch_interval_ms", 1000, 10, 3600000, applied,
                     "How often giftgated runs a prune batch while it is quiet.",
                     [](auto& c) -> auto& { return c.retention.batch_interval; }));

  // Pushes and reminders: read by the daemon's push step each time.
  const auto hours = [&t](std::string name, std::string def, std::string help, auto get) {
    t.push_back(text(std::move(name), def, "a daily span like 21:00-09:00 (equal ends: none)",
                     applied, std::move(help), get,
                     [get](Config& c, const std::string& v, const std::string& key) {
                       const auto h = parse_daily_hours(v);
                       if (!h)
                         return fmt::format("{} must be a span like 21:00-09:00, not '{}'", key, v);
                       get(c) = *h;
                       return std::string();
                     }));
  };
  hours("pushes.quiet_hours", "21:00-09:00",
        "Wall-clock hours, in campaign.time_zone, in which no push is sent; a push resumes after.",
        [](auto& c) -> auto& { return c.pushes.quiet; });
  t.push_back(number("pushes.member_interval_hours", 72, 0, 8760, applied,
                     "At most one push per member within this many hours, across pushes; a "
                     "member whose turn comes sooner is skipped (too_soon). 0: no limit.",
                     [](auto& c) -> auto& { return c.pushes.member_interval_hours; }));
  t.push_back(number("pushes.rate", 0, 0, 100000, applied,
                     "Messages a second for a push created without --rate; 0: as fast as the "
                     "capacity replies leave allows.",
                     [](auto& c) -> auto& { return c.pushes.rate; }));
  t.push_back(number("pushes.batch", 500, 10, 100000, applied,
                     "Members one step selects or queues (one short transaction).",
                     [](auto& c) -> auto& { return c.pushes.batch; }));
  t.push_back(number("pushes.max_queued", 2000, 10, 1000000, applied,
                     "A push's messages waiting in the outbox at most; the rest wait their turn "
                     "as members, so pause, opt-out and --until act on them.",
                     [](auto& c) -> auto& { return c.pushes.max_queued; }));
  t.push_back(flag("reminders.enabled", true, applied,
                   "Remind members of an unused voucher before it expires (once per voucher).",
                   [](auto& c) -> auto& { return c.reminders.enabled; }));
  t.push_back(number("reminders.days_before", 3, 1, 365, applied,
                     "Days before a voucher's expiry that its reminder is queued.",
                     [](auto& c) -> auto& { return c.reminders.days_before; }));
  hours("reminders.hours", "10:00-20:00",
        "Wall-clock hours, in campaign.time_zone, in which reminders are queued.",
        [](auto& c) -> auto& { return c.reminders.hours; });
  t.push_back(flag("reminders.respect_opt_out", false, applied,
                   "Whether a member who opted out of care messages (TD) gets no reminders; "
                   "false: they do, since it is about their own voucher.",
                   [](auto& c) -> auto& { return c.reminders.respect_opt_out; }));

  // The website's sign-in is read at each request: a reload applies it.
  t.push_back(number("web.code_minutes", 5, 1, 60, applied,
                     "How long a sign-in code sent by SMS is good.",
                     [](auto& c) -> auto& { return c.web.code_minutes; }));
  t.push_back(number("web.code_attempts", 5, 1, 20, applied,
                     "Wrong tries of a code before it is locked.",
                     [](auto& c) -> auto& { return c.web.code_attempts; }));
  t.push_back(number("web.codes_per_number_per_hour", 3, 1, 100, applied,
                     "Sign-in codes sent to one number in an hour at most.",
                     [](auto& c) -> auto& { return c.web.codes_per_number_per_hour; }));
  t.push_back(number("web.codes_per_address_per_hour", 20, 1, 100000, applied,
                     "Sign-in codes asked for from one client address in an hour at most.",
                     [](auto& c) -> auto& { return c.web.codes_per_address_per_hour; }));
  t.push_back(number("web.token_minutes", 15, 1, 1440, applied,
                     "How long a member token from a code is good.",
                     [](auto& c) -> auto& { return c.web.token_minutes; }));
  return t;
}

bool same_tiers(const Config& a, const Config& b) {
  const auto& x = a.campaign.tiers;
  const auto& y = b.campaign.tiers;
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].name != y[i].name || x[i].face_value != y[i].face_value || x[i].price != y[i].price)
      return false;
  return true;
}

bool same_keywords(const Config& a, const Config& b) {
  for (const char* name : {"balance", "redeem", "confirm", "my_vouchers", "merchants", "opt_out",
                           "opt_in", "help", "verify"}) {
    Command command;
    if (command_from_name(name, &command) &&
        a.keywords.words(command) != b.keywords.words(command))
      return false;
  }
  return true;
}

// Whether two SMSCs are the same in every setting an entry has: the
// table's smsc.* rows compare them, so a new row is compared too.
bool same_smsc(const SmscEntry& a, const SmscEntry& b) {
  Config x, y;
  x.daemon.smsc = a;
  y.daemon.smsc = b;
  for (const auto& s : settings())
    if (s.name.starts_with("smsc.") && !s.same(x, y)) return false;
  return true;
}

bool same_smscs(const std::vector<SmscEntry>& a, const std::vector<SmscEntry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_smsc);
}

// Whether the SMSCs are just the smsc: section (no smscs: list), whose
// rows then say what changed.
bool only_smsc_section(const Config& c) {
  return c.daemon.smscs.size() == 1 && same_smsc(c.daemon.smscs[0], c.daemon.smsc);
}

// roff for a value or help text: backslashes, hyphens and a leading dot.
std::string roff(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '\\') out += "\\e";
    else if (ch == '-') out += "\\-";
    else out += ch;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

}  // namespace

std::string_view Setting::key() const {
  const auto dot = name.rfind('.');
  return std::string_view(name).substr(dot == std::string::npos ? 0 : dot + 1);
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = make_table();
  return table;
}

const std::vector<SpecialSetting>& special_settings() {
  static const std::vector<SpecialSetting> special = {
      {"campaign.tiers", "The gifts: a list of { name, value, points }."},
      {"keywords", "What members and merchants text, by command."},
      {"smscs",
       "Several SMSCs: a list of entries, each with the keys of the smsc section (id, "
       "host, port, binds, rate, ...), their defaults and checks; instead of smsc.",
       Reload::restart},
  };
  return special;
}

std::vector<SettingChange> changed_settings(const Config& running, const Config& fresh) {
  std::vector<SettingChange> out;
  for (const auto& s : settings())
    if (!s.same(running, fresh)) out.push_back({s.name, s.reload});
  if (!same_tiers(running, fresh)) out.push_back({"campaign.tiers", Reload::applied});
  if (!same_keywords(running, fresh)) out.push_back({"keywords", Reload::applied});
  // With the smsc: section alone on both sides, its rows have named each
  // change already.
  if (!same_smscs(running.daemon.smscs, fresh.daemon.smscs) &&
      !(only_smsc_section(running) && only_smsc_section(fresh)))
    out.push_back({"smscs", Reload::restart});
  return out;
}

Config with_reloadable(const Config& running, const Config& fresh) {
  Config next = running;
  next.source = fresh.source;
  for (const auto& s : settings())
    if (s.reload == Reload::applied) s.copy(next, fresh);
  next.campaign.tiers = fresh.campaign.tiers;
  next.keywords = fresh.keywords;
  // The SMSCs are bound at start: the list in force stays, as the smsc.*
  // rows (restart) do.
  next.daemon.smscs = running.daemon.smscs;
  return next;
}

// The built-in tiers and keywords, as the reference shows them; no list
// of SMSCs (the smsc section is the one).
std::string special_default(const std::string& name) {
  if (name == "smscs") return "none: the smsc section is the one SMSC";
  std::string error;
  const auto defaults = parse_config("", "(built-in defaults)", &error);
  if (!defaults) return error;
  std::string out;
  if (name == "campaign.tiers") {
    for (const auto& t : defaults->campaign.tiers)
      out += fmt::format("{}{}: {} yuan, {} points", out.empty() ? "" : "; ", t.name,
                         t.face_value, t.price);
    return out;
  }
  for (const char* command_name : {"balance", "redeem", "confirm", "my_vouchers", "merchants",
                                   "opt_out", "opt_in", "help", "verify"}) {
    Command command;
    if (!command_from_name(command_name, &command)) continue;
    std::string words;
    for (const auto& w : defaults->keywords.words(command)) words += (words.empty() ? "" : ", ") + w;
    out += fmt::format("{}{} [{}]", out.empty() ? "" : "; ", command_name, words);
  }
  return out;
}

std::string settings_reference(SettingsFormat format) {
  std::string out;
  const auto reload_words = [](Reload r) {
    return r == Reload::applied ? "SIGHUP applies it" : "Needs a restart";
  };
  if (format == SettingsFormat::text) {
    for (const auto& s : settings())
      out += fmt::format("{} = {}\n    {}\n    Allowed: {}. {}.\n", s.name,
                         s.default_value.empty() ? "\"\"" : s.default_value, s.help, s.allowed,
                         reload_words(s.reload));
    for (const auto& s : special_settings())
      out += fmt::format("{} = {}\n    {}\n    {}.\n", s.name, special_default(s.name), s.help,
                         reload_words(s.reload));
    return out;
  }
  for (const auto& s : settings())
    out += fmt::format(".TP\n.B {}\n{}\nDefault {}.\nAllowed: {}.\n{}.\n", s.name, roff(s.help),
                       s.default_value.empty() ? "empty" : roff(s.default_value),
                       roff(s.allowed), reload_words(s.reload));
  for (const auto& s : special_settings())
    out += fmt::format(".TP\n.B {}\n{}\nDefault {}.\n{}.\n", s.name, roff(s.help),
                       roff(special_default(s.name)), reload_words(s.reload));
  return out;
}

}  // namespace giftgate
