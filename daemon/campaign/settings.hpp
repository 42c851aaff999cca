// The campaign's settings, as the domain reads them: the campaign, the
// accrual rates, keywords, per-number limits and USSD screens. The
// configuration layer (daemon/config) fills them in from the YAML file
// through its table of settings; the initialisers here, for what is built
// without a file (tests, tools), are held to that table's defaults by a
// test (tests/unit/test_config.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/campaign/keywords.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

// Points per unit of each kind of activity (giftctl import activity).
struct Accrual {
  std::int64_t network_month = 100;
  std::int64_t rbt_fee_yuan = 10;
  std::int64_t service_use = 20;
  // The months activity is credited for, "2026-10" to "2026-12" inclusive
  // (first_period and last_period, or the campaign's own months).
  std::string first_period;
  std::string last_period;

  // Points per unit for an activity name, or nullopt for an unknown one.
  std::optional<std::int64_t> rate(std::string_view activity) const;
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

// How long what only answers a complaint for a while is kept (the
// retention section), in days; 0 keeps it for ever. What a complaint
// needs for good (members, the ledger, vouchers, events, each message's
// row and final state) is never pruned. See daemon/campaign/retention.hpp.
struct RetentionSettings {
  int message_days = 90;  // a final message's body
  int receipt_days = 90;  // receipts, and final messages' parts
  int inbox_days = 90;    // MOs; at least 2 (limits count the last day's)
  int ussd_days = 30;     // ended USSD sessions and their screens
  int batch_rows = 500;   // rows one prune batch may look at
  std::chrono::milliseconds batch_interval{1000};  // between the daemon's batches
};

// A daily span of wall-clock time in the campaign's zone, "21:00-09:00"
// (from the first minute up to, not including, the second; across midnight
// when the second is earlier). Equal ends: no time at all.
struct DailyHours {
  int from = 0;  // minutes after midnight, 0 to 1439
  int to = 0;
  bool contains(int minute_of_day) const {
    if (from == to) return false;
    return from < to ? minute_of_day >= from && minute_of_day < to
                     : minute_of_day >= from || minute_of_day < to;
  }
  bool operator==(const DailyHours&) const = default;
};

// Pushes (the pushes section): when members may not be sent one, how
// often one member may get one, and how fast and in what steps they go.
struct PushSettings {
  DailyHours quiet{21 * 60, 9 * 60};  // nothing pushed inside; a push resumes after
  int member_interval_hours = 72;     // at most one push per member this often (0: no limit)
  int rate = 0;          // messages a second for a push that names none (0: what answers leave)
  int batch = 500;       // members selected, or queued, per step
  int max_queued = 2000;  // a push's messages waiting in the outbox at most
};

// Reminders before a voucher expires (the reminders section).
struct ReminderSettings {
  bool enabled = true;
  int days_before = 3;                 // queued this many days before expiry
  DailyHours hours{10 * 60, 20 * 60};  // only queued inside these hours
  bool respect_opt_out = false;  // about the member's own voucher: sent to opted-out members too
};

// The campaign's part of the configuration: everything the domain reads.
// The website's sign-in (web_login.hpp): one-time codes by SMS and the
// member tokens they are exchanged for.
struct WebSettings {
  int code_minutes = 5;               // a code is good this long
  int code_attempts = 5;              // wrong tries before a code is locked
  int codes_per_number_per_hour = 3;  // codes sent to one number
  int codes_per_address_per_hour = 20;  // codes asked for from one client address
  int token_minutes = 15;             // a member token is good this long
};

// The service desk console's sign-in (console.* in giftgate.yaml).
struct ConsoleSettings {
  int max_failures = 5;              // wrong passwords in a row before a lock-out
  std::chrono::minutes lock{15};     // how long a lock-out lasts
  std::chrono::minutes idle{30};     // a session with no request this long ends
  std::chrono::minutes absolute{720};  // a session ends this long after sign-in in any case
};

struct CampaignConfig {
  std::string source;  // the file it came from, or "(built-in defaults)"
  std::string db_path = "/var/lib/giftgate/giftgate.db";
  std::chrono::milliseconds busy_timeout{5000};
  std::string time_zone = "Asia/Shanghai";  // an IANA zone: wall times in and out (calendar.hpp)
  std::string default_country = "86";
  std::string templates_path = "/etc/giftgate/messages.yaml";  // templates/messages.yaml
  std::size_t max_parts = 3;       // the most SMS parts one message may take
  Campaign campaign;
  Accrual accrual;
  Keywords keywords;
  Limits limits;
  UssdSettings ussd;
  RetentionSettings retention;
  PushSettings pushes;
  ReminderSettings reminders;
  WebSettings web;
  ConsoleSettings console;
};

}  // namespace giftgate
