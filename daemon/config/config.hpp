// The configuration file (conf/giftgate.yaml): loaded once, checked whole.
// Unknown keys, values of the wrong kind and out-of-range numbers are refused
// with the file's name and the line; nothing half-loaded is ever used. Every
// scalar setting, with its default, is in the table of settings_table.hpp;
// a test checks the shipped file against it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/outbox.hpp"
#include "protocol/charset.hpp"
#include "protocol/receipt.hpp"
#include "protocol/net/settings.hpp"
#include "daemon/campaign/settings.hpp"

namespace giftgate {

// One SMSC giftgated binds to: an entry of `smscs:`, or the single `smsc:`
// section (which is one entry). Its `binds` connections share its rate, as
// an SP account's contract counts submits for the account, not per bind.
struct SmscEntry {
  std::string id = "smsc";  // names it in receipts' matching, metrics, status and logs
  std::size_t binds = 1;    // connections: each a transceiver, or a transmitter + receiver
  // Address, TLS, credentials and timers of every connection; `window` is
  // each connection's, `rate` (and `burst`) the whole entry's.
  smpp::SessionSettings session;
  bool split_bind = false;  // bind as transmitter + receiver instead of transceiver
  std::string source_addr = "12580";
  std::uint8_t source_ton = 0;
  std::uint8_t source_npi = 0;
  smpp::IdFormat response_ids = smpp::IdFormat::automatic;  // in submit_sm_resp
  smpp::IdFormat receipt_ids = smpp::IdFormat::automatic;   // in receipts
  // A receipt applies only to a message sent to its source address.
  bool receipt_check_recipient = true;
  smpp::DefaultAlphabet alphabet = smpp::DefaultAlphabet::gsm7_unpacked;
  // A USSD answer goes back on the very connection its step came from
  // (some centres keep the dialogue per bind); otherwise on any of this
  // entry's connections.
  bool ussd_same_bind = false;
  // The credential password_file names ($CREDENTIALS_DIRECTORY/NAME)
  // where $CREDENTIALS_DIRECTORY is not set, so the password was not read:
  // giftgated refuses to start so; giftctl needs no password.
  std::string password_credential;
};

// The HTTP API (daemon/http/server.hpp and daemon/gateway/api.hpp): off
// while listen is empty.
struct ApiSettings {
  std::string listen;        // an address; empty: no API
  std::uint16_t port = 8443;
  std::string tls_certificate;  // PEM files; both empty: plain HTTP, loopback only
  std::string tls_key;
  std::size_t max_connections = 256;
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 65536;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::seconds idle_timeout{30};
  int key_rate = 200;   // requests a second per key (a token bucket) ...
  int key_burst = 400;  // ... and the most at once
};

// What only giftgated reads: the SMSCs, the outbox's policy, logging,
// metrics and the process.
struct DaemonSettings {
  // The `smsc:` section as read (the table's smsc.* settings fill it; an
  // entry of `smscs:` is read into a scratch Config's and copied out). With
  // `smscs:` in the file it holds the defaults: use `smscs`.
  SmscEntry smsc;
  // Every SMSC, in the file's order; never empty once parsed (the `smsc:`
  // section alone is one entry).
  std::vector<SmscEntry> smscs;
  // A reply goes through the SMSC its MO came from while that SMSC has room;
  // false: wherever there is the most room.
  bool reply_via_origin = true;
  ResendPolicy resend;
  int mo_dedupe_seconds = 120;
  std::string log_level = "info";
  std::string metrics_listen = "127.0.0.1";
  std::uint16_t metrics_port = 9464;  // 0: no endpoint
  std::string pid_file;
  std::chrono::seconds drain{10};
  ApiSettings api;
};

// The whole configuration: the campaign's part and giftgated's own.
struct Config : CampaignConfig {
  DaemonSettings daemon;
};

// Which file to read: `given` (--config) if not empty, else $GIFTGATE_CONFIG,
// else /etc/giftgate/giftgate.yaml if it exists; empty: the built-in defaults.
std::string config_path(const std::string& given);
// What a loaded configuration allows but an operator should hear about
// (a guard turned off), one sentence each.
std::vector<std::string> config_warnings(const Config& config);

// Why giftgated cannot start with this configuration though it parsed: an
// SMSC whose password_file names a systemd credential that was not handed
// over ($CREDENTIALS_DIRECTORY not set), one sentence for each, naming the
// SMSC; empty: it can.
std::vector<std::string> missing_credentials(const Config& config);

// Loads config_path(given), or the built-in defaults (the table's).
std::optional<Config> find_config(const std::string& given, std::string* error);

// The shipped conf/giftgate.yaml, as compiled in (tests check it against
// the table of settings).
std::string_view default_config_text();

// Parses configuration text; `source` names it in errors ("file:line: ...").
std::optional<Config> parse_config(std::string_view text, const std::string& source,
                                   std::string* error);
std::optional<Config> load_config(const std::string& path, std::string* error);

}  // namespace giftgate
