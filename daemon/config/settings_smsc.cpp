// The table's smsc.* rows: each SMSC's bind, window, rate and ids.
#include "daemon/config/settings_rows.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "daemon/config/setting_kinds.hpp"

namespace giftgate {
namespace {

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

}  // namespace

using namespace setting_kinds;

void add_smsc_settings(std::vector<Setting>& t) {
  constexpr auto restart = Reload::restart;
  using smpp::IdFormat;
  const std::vector<std::pair<std::string, IdFormat>> id_formats = {
      {"auto", IdFormat::automatic}, {"decimal", IdFormat::decimal}, {"hex", IdFormat::hex},
      {"as_is", IdFormat::as_is}};
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
}

}  // namespace giftgate
