// The configuration sections of the SMPP side: smsc, outbox, daemon,
// logging and metrics, which only giftgated reads, and ussd, whose menus
// file giftctl checks too.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "daemon/config/config.hpp"
#include "daemon/config/config_reader.hpp"
#include "protocol/ussd.hpp"

namespace giftgate::config_detail {
namespace {

bool id_format(const std::string& text, smpp::IdFormat* f) {
  if (text == "auto") *f = smpp::IdFormat::automatic;
  else if (text == "decimal") *f = smpp::IdFormat::decimal;
  else if (text == "hex") *f = smpp::IdFormat::hex;
  else if (text == "as_is") *f = smpp::IdFormat::as_is;
  else return false;
  return true;
}

// How password_file names a credential systemd hands the unit
// (LoadCredential=): "$CREDENTIALS_DIRECTORY/smsc-password".
constexpr std::string_view kCredentials = "$CREDENTIALS_DIRECTORY/";

// The SMSC password from the first line of password_file (`at` for errors).
// Like ssh with a private key, a file that group or others may read or
// write is refused rather than used. A credential is read only where
// systemd has set $CREDENTIALS_DIRECTORY; elsewhere (giftctl, a check by
// hand) it is left for giftgated's start, which refuses to run without it.
void read_password_file(Reader& r, const YAML::Node& at, std::string path, DaemonSettings& d) {
  if (path.starts_with(kCredentials)) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir) {
      d.password_credential = path.substr(kCredentials.size());
      return;
    }
    path = fmt::format("{}/{}", dir, path.substr(kCredentials.size()));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.fail(at, fmt::format("{} cannot be read", path));
    return;
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    r.fail(at, fmt::format("{} cannot be read", path));
  } else if ((st.st_mode & 077) != 0) {
    r.fail(at, fmt::format("{} has mode {:04o}: a password file must be closed to group and "
                           "others (chmod 600 {}, or hand it over with systemd's "
                           "LoadCredential=); not used",
                           path, st.st_mode & 07777, path));
  } else {
    char buf[512];  // the password is on the first line, 8 characters at most
    ssize_t n = 0;
    while (text.find('\n') == std::string::npos && text.size() < 4096 &&
           (n = ::read(fd, buf, sizeof buf)) > 0)
      text.append(buf, static_cast<std::size_t>(n));
    if (n < 0 || text.empty()) r.fail(at, fmt::format("{} cannot be read", path));
  }
  ::close(fd);
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  d.smsc.password = line;
}

void read_smsc(Reader& r, const YAML::Node& node, DaemonSettings& d) {
  r.section(node, "smsc",
            {"host", "port", "tls", "system_id", "password", "password_file", "system_type",
             "bind", "source_addr", "source_ton", "source_npi", "window", "rate",
             "enquire_link_seconds", "response_timeout_seconds", "reconnect_max_seconds",
             "message_ids", "receipt_ids", "receipt_check_recipient", "default_alphabet"});
  auto& s = d.smsc;
  s.host = r.text(node, "host", "127.0.0.1");
  s.port = static_cast<std::uint16_t>(r.integer(node, "port", 2775, 1, 65535));
  const auto tls = child(node, "tls");
  r.section(tls, "smsc.tls",
            {"enabled", "verify", "ca_file", "server_name", "cert_file", "key_file"});
  s.tls.enabled = r.flag(tls, "enabled", false);
  s.tls.verify = r.flag(tls, "verify", true);
  s.tls.ca_file = r.text(tls, "ca_file", "");
  s.tls.server_name = r.text(tls, "server_name", "");
  s.tls.cert_file = r.text(tls, "cert_file", "");
  s.tls.key_file = r.text(tls, "key_file", "");
  s.system_id = r.text(node, "system_id", "giftgate");
  if (s.system_id.empty() || s.system_id.size() > 15)
    r.fail(child(node, "system_id"), "system_id must have 1 to 15 characters");
  s.password = r.text(node, "password", "");
  const std::string password_file = r.text(node, "password_file", "");
  if (!password_file.empty()) {
    if (!s.password.empty())
      r.fail(child(node, "password_file"), "give password or password_file, not both");
    read_password_file(r, child(node, "password_file"), password_file, d);
  }
  if (s.password.size() > 8) r.fail(child(node, "password"), "an SMPP password has at most 8 characters");
  s.system_type = r.text(node, "system_type", "");
  const std::string bind = r.text(node, "bind", "transceiver");
  if (bind == "transmitter_and_receiver") d.split_bind = true;
  else if (bind != "transceiver")
    r.fail(child(node, "bind"), "bind must be transceiver or transmitter_and_receiver");
  d.source_addr = r.text(node, "source_addr", "12580");
  if (d.source_addr.empty() || d.source_addr.size() > 20)
    r.fail(child(node, "source_addr"), "source_addr must have 1 to 20 characters");
  d.source_ton = static_cast<std::uint8_t>(r.integer(node, "source_ton", 0, 0, 6));
  d.source_npi = static_cast<std::uint8_t>(r.integer(node, "source_npi", 0, 0, 18));
  s.window = static_cast<std::size_t>(r.integer(node, "window", 10, 1, 1000));
  s.rate = static_cast<double>(r.integer(node, "rate", 50, 0, 100000));
  s.burst = std::max(1.0, s.rate / 10);
  s.enquire_link_interval = std::chrono::seconds(r.integer(node, "enquire_link_seconds", 30, 1, 3600));
  s.response_timeout = std::chrono::seconds(r.integer(node, "response_timeout_seconds", 10, 1, 600));
  s.reconnect_max = std::chrono::seconds(r.integer(node, "reconnect_max_seconds", 60, 1, 3600));
  if (!id_format(r.text(node, "message_ids", "auto"), &d.response_ids))
    r.fail(child(node, "message_ids"), "message_ids must be auto, decimal, hex or as_is");
  if (!id_format(r.text(node, "receipt_ids", "auto"), &d.receipt_ids))
    r.fail(child(node, "receipt_ids"), "receipt_ids must be auto, decimal, hex or as_is");
  d.receipt_check_recipient = r.flag(node, "receipt_check_recipient", true);
  const std::string alphabet = r.text(node, "default_alphabet", "gsm7");
  if (alphabet == "gsm7") d.alphabet = smpp::DefaultAlphabet::gsm7_unpacked;
  else if (alphabet == "gsm7_packed") d.alphabet = smpp::DefaultAlphabet::gsm7_packed;
  else if (alphabet == "latin1") d.alphabet = smpp::DefaultAlphabet::latin1;
  else if (alphabet == "ascii") d.alphabet = smpp::DefaultAlphabet::ascii;
  else r.fail(child(node, "default_alphabet"), "default_alphabet must be gsm7, gsm7_packed, latin1 or ascii");
}

}  // namespace

void read_daemon(Reader& r, const YAML::Node& root, DaemonSettings& d) {
  read_smsc(r, child(root, "smsc"), d);

  const auto outbox = child(root, "outbox");
  r.section(outbox, "outbox",
            {"max_attempts", "first_resend_seconds", "receipt_timeout_seconds",
             "mo_dedupe_seconds"});
  d.resend.max_attempts = static_cast<int>(r.integer(outbox, "max_attempts", 3, 1, 20));
  d.resend.first_delay = std::chrono::seconds(r.integer(outbox, "first_resend_seconds", 60, 1, 86400));
  d.resend.receipt_timeout =
      std::chrono::seconds(r.integer(outbox, "receipt_timeout_seconds", 600, 1, 7 * 86400));
  d.mo_dedupe_seconds = static_cast<int>(r.integer(outbox, "mo_dedupe_seconds", 120, 1, 3600));

  const auto daemon = child(root, "daemon");
  r.section(daemon, "daemon", {"pid_file", "drain_seconds"});
  d.pid_file = r.text(daemon, "pid_file", "");
  d.drain = std::chrono::seconds(r.integer(daemon, "drain_seconds", 10, 0, 600));

  const auto logging = child(root, "logging");
  r.section(logging, "logging", {"level"});
  d.log_level = r.text(logging, "level", "info");
  if (d.log_level != "debug" && d.log_level != "info" && d.log_level != "warning" &&
      d.log_level != "error")
    r.fail(child(logging, "level"), "level must be debug, info, warning or error");

  const auto metrics = child(root, "metrics");
  r.section(metrics, "metrics", {"listen", "port"});
  d.metrics_listen = r.text(metrics, "listen", "127.0.0.1");
  if (d.metrics_listen != "127.0.0.1" && d.metrics_listen != "::1" && d.metrics_listen != "localhost")
    r.fail(child(metrics, "listen"), "metrics are served on loopback only (127.0.0.1 or ::1)");
  d.metrics_port = static_cast<std::uint16_t>(r.integer(metrics, "port", 9464, 0, 65535));
}

void read_ussd(Reader& r, const YAML::Node& node, UssdSettings& u) {
  r.section(node, "ussd",
            {"enabled", "service_code", "menus", "session_timeout_seconds", "operations",
             "max_chars_gsm", "max_chars_ucs2"});
  u.enabled = r.flag(node, "enabled", true);
  u.service_code = r.text(node, "service_code", "*12580#");
  if (u.service_code.size() < 3 || u.service_code.front() != '*' || u.service_code.back() != '#' ||
      u.service_code.find_first_not_of("0123456789*", 0) != u.service_code.size() - 1)
    r.fail(child(node, "service_code"), "service_code must look like *12580#");
  u.menus_path = r.text(node, "menus", "/etc/giftgate/menus.yaml");
  if (u.menus_path.empty()) r.fail(child(node, "menus"), "menus must not be empty");
  u.session_timeout =
      std::chrono::seconds(r.integer(node, "session_timeout_seconds", 60, 5, 3600));
  u.max_chars_gsm = static_cast<std::size_t>(r.integer(node, "max_chars_gsm", 182, 20, 182));
  u.max_chars_ucs2 = static_cast<std::size_t>(r.integer(node, "max_chars_ucs2", 80, 10, 91));

  const auto ops = child(node, "operations");
  r.section(ops, "ussd.operations", {"begin", "continue", "menu", "end", "abort"});
  auto op = [&](const char* key, std::uint8_t fallback) {
    const std::string text = r.text(ops, key, std::to_string(fallback));
    const auto value = smpp::parse_ussd_op(text);
    if (!value) {
      r.fail(child(ops, key),
             fmt::format("{} must be an ussd_service_op: a name like pssr_indication, or 0 to 255",
                         key));
      return fallback;
    }
    return *value;
  };
  u.op_begin = op("begin", smpp::ussd_op::pssr_indication);
  u.op_continue = op("continue", smpp::ussd_op::ussr_confirm);
  u.op_menu = op("menu", smpp::ussd_op::ussr_request);
  u.op_end = op("end", smpp::ussd_op::pssr_response);
  u.op_abort = op("abort", 0x81);
  // At whichever of the two the file sets.
  auto either = [&](const char* a, const char* b) {
    const auto node = child(ops, a);
    return node.IsDefined() ? node : child(ops, b);
  };
  if (u.op_begin == u.op_continue)
    r.fail(either("continue", "begin"), "begin and continue must differ: the daemon tells them apart");
  if (u.op_menu == u.op_end)
    r.fail(either("end", "menu"), "menu and end must differ: the centre tells them apart");
}

}  // namespace giftgate::config_detail
