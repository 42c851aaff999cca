// The configuration file (conf/giftgate.yaml): loaded once, checked whole.
// Unknown keys, values of the wrong kind and out-of-range numbers are refused
// with the file's name and the line; nothing half-loaded is ever used. The
// shipped file is compiled in as the defaults, so the two cannot disagree.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/keywords.hpp"
#include "daemon/outbox.hpp"
#include "protocol/charset.hpp"
#include "protocol/receipt.hpp"
#include "protocol/session.hpp"
#include "daemon/vouchers.hpp"

namespace giftgate {

// Points per unit of each kind of activity (giftctl import activity).
struct Accrual {
  std::int64_t network_month = 0;
  std::int64_t rbt_fee_yuan = 0;
  std::int64_t service_use = 0;
  // The months activity is credited for, "2026-10" to "2026-12" inclusive
  // (first_period and last_period, or the campaign's own months).
  std::string first_period;
  std::string last_period;

  // Points per unit for an activity name, or nullopt for an unknown one.
  std::optional<std::int64_t> rate(std::string_view activity) const;
};

// What only giftgated reads: the SMSC, the outbox's policy, logging,
// metrics and the process.
struct DaemonSettings {
  smpp::SessionSettings smsc;
  bool split_bind = false;  // bind as transmitter + receiver instead of transceiver
  std::string source_addr = "12580";
  std::uint8_t source_ton = 0;
  std::uint8_t source_npi = 0;
  smpp::IdFormat response_ids = smpp::IdFormat::automatic;  // in submit_sm_resp
  smpp::IdFormat receipt_ids = smpp::IdFormat::automatic;   // in receipts
  // A receipt applies only to a message sent to its source address.
  bool receipt_check_recipient = true;
  smpp::DefaultAlphabet alphabet = smpp::DefaultAlphabet::gsm7_unpacked;
  ResendPolicy resend;
  int mo_dedupe_seconds = 120;
  std::string log_level = "info";
  std::string metrics_listen = "127.0.0.1";
  std::uint16_t metrics_port = 9464;  // 0: no endpoint
  std::string pid_file;
  std::chrono::seconds drain{10};
  // The credential smsc.password_file names ($CREDENTIALS_DIRECTORY/NAME)
  // where $CREDENTIALS_DIRECTORY is not set, so the password was not read:
  // giftgated refuses to start so; giftctl needs no password.
  std::string password_credential;
};

// USSD sessions (the ussd section): the service code, the menus file, how
// long a session lives, which ussd_service_op values the USSD centre uses,
// and the screen limits.
struct UssdSettings {
  bool enabled = true;
  std::string service_code = "*12580#";
  std::string menus_path = "/etc/giftgate/menus.yaml";
  std::chrono::seconds session_timeout{60};
  std::uint8_t op_begin = 1;      // PSSR indication: the member dialled
  std::uint8_t op_continue = 18;  // USSR confirm: the member answered a menu
  std::uint8_t op_menu = 2;       // USSR request: we show a menu, the session goes on
  std::uint8_t op_end = 17;       // PSSR response: we show a text, the session ends
  std::uint8_t op_abort = 0x81;   // the centre or the member ended the session
  std::size_t max_chars_gsm = 182;
  std::size_t max_chars_ucs2 = 80;
};

// How much one number may ask of the service (the limits section); 0
// turns a limit off. Past a limit an MO is recorded and acknowledged and
// does nothing; its sender is told to slow down at most once per period.
struct Limits {
  int mo_per_minute = 10;  // SMS from a member's (or anyone's) number
  int mo_per_day = 100;
  int replies_per_minute = 10;  // SMS sent to that number
  int replies_per_day = 100;
  int merchant_mo_per_minute = 60;  // SMS from a merchant's number
  int merchant_mo_per_day = 3000;
  int ussd_per_minute = 20;  // USSD steps (dials and answers) from a number
  int ussd_per_day = 200;
  int non_member_replies_per_day = 1;  // what a number that is no one's gets
};

struct Config {
  std::string source;  // the file it came from, or "(built-in defaults)"
  std::string db_path;
  std::chrono::milliseconds busy_timeout{5000};
  std::string time_zone;
  // The zone's offset from UTC at the campaign's start: where reports cut days.
  std::chrono::minutes utc_offset{0};
  std::string default_country;
  std::string templates_path;      // the messages file (templates/messages.yaml)
  std::size_t max_parts = 3;       // the most SMS parts one message may take
  Campaign campaign;
  Accrual accrual;
  Keywords keywords;
  Limits limits;
  UssdSettings ussd;
  DaemonSettings daemon;
};

// Which file to read: `given` (--config) if not empty, else $GIFTGATE_CONFIG,
// else /etc/giftgate/giftgate.yaml if it exists; empty: the built-in defaults.
std::string config_path(const std::string& given);
// What a loaded configuration allows but an operator should hear about
// (a guard turned off), one sentence each.
std::vector<std::string> config_warnings(const Config& config);

// Loads config_path(given), or the built-in defaults.
std::optional<Config> find_config(const std::string& given, std::string* error);

// The shipped conf/giftgate.yaml, as compiled in.
std::string_view default_config_text();

// Parses configuration text; `source` names it in errors ("file:line: ...").
std::optional<Config> parse_config(std::string_view text, const std::string& source,
                                   std::string* error);
std::optional<Config> load_config(const std::string& path, std::string* error);

// A month as "YYYY-MM" (month 01 to 12, nothing else, surrounding spaces
// dropped), or nullopt: "2026-10-01", "Oct 2026" and "2026-1" are refused so
// that one month always has one spelling.
std::optional<std::string> parse_month(std::string_view text);

// A wall-clock time ("2026-10-01 00:00", "2026-10-01T00:00:00", "2026-10-01")
// in an IANA zone, as UTC; nullopt when malformed or the zone is unknown.
std::optional<Time> parse_local_time(std::string_view text, const std::string& zone);
// A zone's offset from UTC at instant t.
std::optional<std::chrono::minutes> zone_offset(const std::string& zone, Time t);

}  // namespace giftgate
