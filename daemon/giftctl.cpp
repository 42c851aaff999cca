// giftctl: the operators' tool. Works on the campaign database directly,
// also while giftgated runs (SQLite WAL; writes wait for the daemon's
// transactions up to storage.busy_timeout_ms).
//
// Exit status: 0 done, 1 refused by a business rule (or the database was
// unavailable), 2 bad usage or bad input. Errors go to stderr and say what
// and where.
#include <unistd.h>

#include <pwd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "daemon/config.hpp"
#include "daemon/imports.hpp"
#include "daemon/ledger.hpp"
#include "daemon/outbox.hpp"
#include "daemon/phone.hpp"
#include "daemon/reports.hpp"
#include "daemon/schema.hpp"
#include "daemon/templates.hpp"
#include "daemon/voucher_code.hpp"
#include "daemon/vouchers.hpp"
#include "protocol/split.hpp"

namespace giftgate {
namespace {

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

constexpr std::string_view kUsageText = R"(usage: giftctl [options] COMMAND [ARGS]

Commands:
  import members|merchants|activity FILE.csv
                                 load a CSV file (header line first), all or nothing
  member MSISDN                  the member's balance, ledger, vouchers and history
  voucher CODE                   a voucher and its timeline
  points MSISDN +N|-N --reason TEXT
                                 add or take points
  stock [TIER CITY N]            set the stock of a tier in a city; alone, list it
  redeem MSISDN TIER [--request ID]
                                 redeem for a member (call centre), no confirmation
  void CODE --reason TEXT [--no-refund]
                                 void an unused voucher, its points given back
  reinstate CODE --reason TEXT   make a wrongly used voucher usable again
  lockouts                       merchant numbers locked out for wrong codes
  unlock MSISDN --reason TEXT    lift a lock-out early
  report [--by tier|city|merchant|day|messages]
                                 issued, used, points and value (all if no --by);
                                 messages: outbound SMS by state
  resend CODE|MESSAGE-ID         send a voucher's SMS (or any message) again
  export redemptions --since TIME
                                 vouchers issued since TIME, for the points system
  templates check [FILE]         check a messages file (default: templates.path)
  templates render NAME [--lang zh|en] [--file FILE] [key=value ...]
                                 show one message filled with the given values
  check-config                   load the configuration, report, exit

Options:
  --config FILE     configuration (default: $GIFTGATE_CONFIG, else
                    /etc/giftgate/giftgate.yaml if present, else built-in)
  --db PATH         the campaign database (default: storage.path from the config)
  --operator NAME   who is acting, for the history (default: the login name)
  --format F        table, csv or json (report, export, stock, lockouts)
  --output FILE     write report or export output to FILE
  --quiet           no progress bar
  --lang L, --file F
                    for templates render: the language and the messages file
  --help            this text

Exit status: 0 done, 1 refused by a business rule, 2 bad usage or input.
)";

struct Args {
  std::vector<std::string> words;              // command and its arguments
  std::map<std::string, std::string> options;  // --name value, or "" for flags
};

bool is_flag(const std::string& name) {
  return name == "no-refund" || name == "quiet" || name == "help";
}

// Options may come anywhere; "--name=value" and "--name value" both work.
std::optional<Args> parse_args(int argc, char** argv, std::string* error) {
  static const char* known[] = {"config", "db", "operator", "format", "output", "reason",
                                "since", "by", "request", "lang", "file", "no-refund", "quiet",
                                "help"};
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2), value;
      const auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
        *error = fmt::format("unknown option --{}", name);
        return std::nullopt;
      }
      if (eq == std::string::npos && !is_flag(name)) {
        if (i + 1 >= argc) {
          *error = fmt::format("--{} needs a value", name);
          return std::nullopt;
        }
        value = argv[++i];
      }
      args.options[name] = value;
    } else {
      args.words.push_back(std::move(a));
    }
  }
  return args;
}

std::string login_name() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"})
    if (const char* v = std::getenv(var); v && *v) return v;
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "unknown";
}

class Ctl {
 public:
  explicit Ctl(Args args) : args_(std::move(args)) {}

  int run();

 private:
  int usage(const std::string& message) {
    fmt::print(stderr, "giftctl: {}\n(giftctl --help lists the commands)\n", message);
    return kUsage;
  }
  int refused(const std::string& message) {
    fmt::print(stderr, "giftctl: {}\n", message);
    return kRefused;
  }
  std::string option(const std::string& name) const {
    const auto it = args_.options.find(name);
    return it == args_.options.end() ? std::string() : it->second;
  }
  bool has(const std::string& name) const { return args_.options.count(name) > 0; }

  bool load_config(std::string* error);
  bool open_db(std::string* error);
  std::optional<std::string> msisdn(const std::string& typed) const {
    return normalize_msisdn(typed, config_.default_country);
  }
  Actor actor() const { return {"giftctl", operator_}; }
  std::ostream& output();
  bool format(Format* f, Format fallback);

  int import();
  int member();
  int voucher();
  int points();
  int stock();
  int redeem();
  int void_or_reinstate(bool reinstate);
  int lockouts();
  int unlock();
  int report();
  int export_redemptions();
  int templates();
  int resend();

  Args args_;
  Config config_;
  std::string operator_;
  std::unique_ptr<db::Database> db_;
  std::ofstream file_;
};

bool Ctl::load_config(std::string* error) {
  auto c = find_config(option("config"), error);
  if (!c) return false;
  config_ = std::move(*c);
  if (has("db")) config_.db_path = option("db");
  operator_ = has("operator") ? option("operator") : login_name();
  return true;
}

bool Ctl::open_db(std::string* error) {
  db_ = db::Database::open({config_.db_path, config_.busy_timeout}, schema_migrations(), error);
  return db_ != nullptr;
}

std::ostream& Ctl::output() {
  if (!has("output")) return std::cout;
  if (!file_.is_open()) file_.open(option("output"), std::ios::binary | std::ios::trunc);
  return file_;
}

bool Ctl::format(Format* f, Format fallback) {
  *f = fallback;
  return !has("format") || parse_format(option("format"), f);
}

int Ctl::run() {
  if (has("help") || args_.words.empty()) {
    std::cout << kUsageText;
    return args_.words.empty() && !has("help") ? kUsage : kOk;
  }
  std::string error;
  if (!load_config(&error)) return usage(error);
  const std::string& command = args_.words[0];
  if (command == "templates") return templates();
  if (command == "check-config") {
    fmt::print("{}: ok (database {}, campaign {} to {} in {}, {} tiers)\n", config_.source,
               config_.db_path, iso_time(config_.campaign.start), iso_time(config_.campaign.end),
               config_.time_zone, config_.campaign.tiers.size());
    return kOk;
  }
  static const std::map<std::string, int (Ctl::*)()> commands = {
      {"import", &Ctl::import},       {"member", &Ctl::member},
      {"voucher", &Ctl::voucher},     {"points", &Ctl::points},
      {"stock", &Ctl::stock},         {"redeem", &Ctl::redeem},
      {"lockouts", &Ctl::lockouts},   {"unlock", &Ctl::unlock},
      {"report", &Ctl::report},       {"export", &Ctl::export_redemptions},
      {"resend", &Ctl::resend},
  };
  const auto it = commands.find(command);
  const bool correction = command == "void" || command == "reinstate";
  if (it == commands.end() && !correction)
    return usage(fmt::format("unknown command '{}'", command));
  if (!open_db(&error)) return refused(error);
  const int rc = correction ? void_or_reinstate(command == "reinstate") : (this->*it->second)();
  if (file_.is_open() && !file_.good())
    return refused(fmt::format("{}: could not be written", option("output")));
  return rc;
}

// --- import --------------------------------------------------------------

int Ctl::import() {
  if (args_.words.size() != 3) return usage("import needs a kind and a file: import members FILE.csv");
  const std::string& kind = args_.words[1];
  const std::string& path = args_.words[2];
  if (kind != "members" && kind != "merchants" && kind != "activity")
    return usage(fmt::format("import: unknown kind '{}' (members, merchants, activity)", kind));
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage(fmt::format("{}: cannot be read", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  const bool bar = !has("quiet") && ::isatty(STDERR_FILENO) && text.size() > 256 * 1024;
  ImportProgress progress;
  if (bar)
    progress = [&](std::size_t done, std::size_t total) {
      const int pct = total ? static_cast<int>(done * 100 / total) : 100;
      const std::string fill(static_cast<std::size_t>(pct / 4), '#');
      fmt::print(stderr, "\r{} [{:<25}] {:3}%", path, fill, pct);
      if (done >= total) fmt::print(stderr, "\n");
    };
  Importer importer(*db_, config_, {"import", fmt::format("{} ({})", operator_, path)}, progress);
  const ImportResult r = kind == "members"     ? importer.members(text, path)
                         : kind == "merchants" ? importer.merchants(text, path)
                                               : importer.activity(text, path);
  if (bar && r.status != ImportResult::Status::ok) fmt::print(stderr, "\n");
  switch (r.status) {
    case ImportResult::Status::bad_input:
      fmt::print(stderr, "giftctl: {}\ngiftctl: nothing of {} was imported\n", r.error, path);
      return kUsage;
    case ImportResult::Status::failed:
      return refused(fmt::format("{}; nothing of {} was imported", r.error, path));
    case ImportResult::Status::ok: break;
  }
  fmt::print("{}: {} rows, {} applied, {} already there", path, r.rows, r.applied, r.skipped);
  if (kind != "merchants") fmt::print(", {} points added", r.points);
  fmt::print("\n");
  return kOk;
}

// --- look-ups ------------------------------------------------------------

int Ctl::member() {
  if (args_.words.size() != 2) return usage("member needs a phone number");
  const auto number = msisdn(args_.words[1]);
  if (!number) return usage(fmt::format("'{}' is not a phone number", args_.words[1]));
  Ledger ledger(*db_);
  const auto m = ledger.find_member(*number);
  if (!m) return refused(fmt::format("{} is not a member", *number));
  auto& out = output();
  fmt::print(out, "member   {}\ncity     {}\nlanguage {}\ncare     {}\nbalance  {} points\n",
             m->msisdn, m->city, m->language, m->care_opt_out ? "opted out" : "receives",
             ledger.balance(m->id));
  const std::pair<const char*, Table> sections[] = {
      {"points", member_ledger(*db_, m->id)},
      {"vouchers", member_vouchers(*db_, m->id)},
      {"offers", member_offers(*db_, m->id)},
      {"history", member_events(*db_, m->id)},
      {"messages", member_messages(*db_, m->msisdn)},
  };
  for (const auto& [title, table] : sections) {
    fmt::print(out, "\n{} ({})\n", title, table.rows.size());
    if (!table.rows.empty()) print(out, table, Format::table);
  }
  return kOk;
}

int Ctl::voucher() {
  if (args_.words.size() != 2) return usage("voucher needs a code");
  std::string code;
  switch (check_voucher_code(args_.words[1], &code)) {
    case CodeCheck::ok: break;
    case CodeCheck::bad_format:
      return usage(fmt::format("'{}' is not a voucher code (two letters, eight digits)",
                               args_.words[1]));
    case CodeCheck::bad_check_digit:
      return usage(fmt::format("'{}' has a wrong check digit: mistyped?", args_.words[1]));
  }
  const Table facts = voucher_facts(*db_, code);
  if (facts.rows.empty()) return refused(fmt::format("no voucher {}", code));
  auto& out = output();
  for (std::size_t i = 0; i < facts.columns.size(); ++i)
    fmt::print(out, "{:<11}{}\n", facts.columns[i], facts.rows[0][i]);
  const Table events = voucher_events(*db_, code);
  fmt::print(out, "\ntimeline ({})\n", events.rows.size());
  print(out, events, Format::table);
  return kOk;
}

// --- changes -------------------------------------------------------------

int Ctl::points() {
  if (args_.words.size() != 3) return usage("points needs a phone number and +N or -N");
  const auto number = msisdn(args_.words[1]);
  if (!number) return usage(fmt::format("'{}' is not a phone number", args_.words[1]));
  const std::string& amount = args_.words[2];
  std::int64_t delta = 0;
  const char* begin = amount.c_str() + (amount.empty() ? 0 : 1);
  const auto [end, ec] = std::from_chars(begin, amount.c_str() + amount.size(), delta);
  if (amount.empty() || (amount[0] != '+' && amount[0] != '-') || ec != std::errc() ||
      end != amount.c_str() + amount.size() || delta == 0)
    return usage(fmt::format("'{}' is not +N or -N", amount));
  if (amount[0] == '-') delta = -delta;
  if (option("reason").empty()) return usage("points needs --reason TEXT");

  Ledger ledger(*db_);
  db::Transaction tx(*db_);
  if (!tx.begun()) return refused(fmt::format("the database is busy: {}", tx.begun().message));
  const auto m = ledger.find_member(*number);
  if (!m) return refused(fmt::format("{} is not a member", *number));
  const std::int64_t balance = ledger.balance(m->id);
  if (balance + delta < 0)
    return refused(fmt::format("{} has {} points; taking {} would leave a negative balance",
                               *number, balance, -delta));
  if (ledger.add_points(m->id, delta, option("reason"), std::nullopt, actor()) !=
          Ledger::Result::ok ||
      !tx.commit().ok())
    return refused(fmt::format("the database refused: {}", ledger.last_error()));
  fmt::print("{}: {:+} points, balance {}\n", *number, delta, balance + delta);
  return kOk;
}

int Ctl::stock() {
  Vouchers vouchers(*db_, config_.campaign);
  if (args_.words.size() == 1) {
    Format f;
    if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
    Table t;
    t.add_column("tier");
    t.add_column("city");
    t.add_column("quantity", true);
    auto q = db_->prepare("SELECT tier, city, quantity FROM stock ORDER BY tier, city");
    while (q.step()) t.rows.push_back({q.column_text(0), q.column_text(1), q.column_text(2)});
    print(output(), t, f);
    return kOk;
  }
  if (args_.words.size() != 4) return usage("stock needs TIER CITY N (or nothing to list)");
  const auto* tier = config_.campaign.tier(args_.words[1]);
  if (!tier) return usage(fmt::format("no tier '{}' in {}", args_.words[1], config_.source));
  std::int64_t n = -1;
  const auto& s = args_.words[3];
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n < 0)
    return usage(fmt::format("'{}' is not a quantity of 0 or more", s));
  std::string city = args_.words[2];
  for (auto& c : city) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!vouchers.set_stock(tier->name, city, n, actor()))
    return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  fmt::print("stock of tier {} in {}: {}\n", tier->name, city, n);
  return kOk;
}

int Ctl::redeem() {
  if (args_.words.size() != 3) return usage("redeem needs a phone number and a tier");
  const auto number = msisdn(args_.words[1]);
  if (!number) return usage(fmt::format("'{}' is not a phone number", args_.words[1]));
  Vouchers vouchers(*db_, config_.campaign);
  const std::string request =
      has("request") ? "giftctl:" + option("request") : std::string();
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  const auto r = vouchers.redeem(*number, args_.words[2], request, actor(), now);
  using S = Redemption::Status;
  switch (r.status) {
    case S::issued:
    case S::already_issued:
      fmt::print("{} voucher {} tier {} ({} yuan) for {}, expires {}, balance {}\n",
                 r.status == S::issued ? "issued" : "already issued", r.code, r.tier,
                 r.face_value, *number, r.expires_at, r.balance);
      return kOk;
    case S::not_started: return refused("the campaign has not started");
    case S::ended: return refused("the campaign has ended");
    case S::unknown_member: return refused(fmt::format("{} is not a member", *number));
    case S::unknown_tier: return usage(fmt::format("no tier '{}'", args_.words[2]));
    case S::insufficient_points:
      return refused(fmt::format("{} has {} points, not enough", *number, r.balance));
    case S::out_of_stock: return refused("none of that tier left in the member's city");
    default: return refused(fmt::format("the database refused: {}", r.error));
  }
}

int Ctl::void_or_reinstate(bool reinstate) {
  const char* verb = reinstate ? "reinstate" : "void";
  if (args_.words.size() != 2) return usage(fmt::format("{} needs a voucher code", verb));
  if (option("reason").empty()) return usage(fmt::format("{} needs --reason TEXT", verb));
  std::string code;
  if (check_voucher_code(args_.words[1], &code) != CodeCheck::ok)
    return usage(fmt::format("'{}' is not a valid voucher code", args_.words[1]));
  Vouchers vouchers(*db_, config_.campaign);
  const auto r = reinstate ? vouchers.reinstate(code, option("reason"), actor())
                           : vouchers.void_voucher(code, option("reason"),
                                                   !has("no-refund"), actor());
  switch (r) {
    case AdminResult::ok:
      fmt::print("{} {}\n", code, reinstate ? "reinstated: usable again" : "voided");
      return kOk;
    case AdminResult::unknown_code: return refused(fmt::format("no voucher {}", code));
    case AdminResult::wrong_state:
      return refused(fmt::format("{} is not {}", code,
                                 reinstate ? "used, so there is nothing to reinstate"
                                           : "unused, so it cannot be voided"));
    case AdminResult::invalid: return usage("a reason is needed");
    case AdminResult::failed: break;
  }
  return refused(fmt::format("the database refused: {}", vouchers.last_error()));
}

int Ctl::lockouts() {
  Format f;
  if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
  Vouchers vouchers(*db_, config_.campaign);
  Table t;
  for (const char* c : {"number", "merchant", "since", "until"}) t.add_column(c);
  t.add_column("failures", true);
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  for (const auto& l : vouchers.lockouts(now))
    t.rows.push_back({l.msisdn, l.merchant_id, l.since, l.until, std::to_string(l.failures)});
  print(output(), t, f);
  return kOk;
}

int Ctl::unlock() {
  if (args_.words.size() != 2) return usage("unlock needs a phone number");
  if (option("reason").empty()) return usage("unlock needs --reason TEXT");
  const auto number = msisdn(args_.words[1]);
  if (!number) return usage(fmt::format("'{}' is not a phone number", args_.words[1]));
  Vouchers vouchers(*db_, config_.campaign);
  switch (vouchers.unlock(*number, option("reason"), actor())) {
    case AdminResult::ok: fmt::print("{} unlocked\n", *number); return kOk;
    case AdminResult::wrong_state: return refused(fmt::format("{} is not locked", *number));
    default: return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  }
}

// --- reports -------------------------------------------------------------

int Ctl::report() {
  if (args_.words.size() != 1) return usage("report takes options only (--by, --format)");
  Format f;
  if (!format(&f, Format::table))
    return usage("--format must be table, csv or json");
  std::vector<std::string> dims = {"tier", "city", "merchant", "day"};
  if (has("by")) dims = {option("by")};
  auto& out = output();
  if (dims.size() == 1 && dims[0] == "messages") {
    print(out, message_report(*db_), f);
    return kOk;
  }
  Table all;  // for CSV and JSON: every grouping in one table, a column saying which
  for (const auto& by : dims) {
    auto t = campaign_report(*db_, by, config_.utc_offset);
    if (!t)
      return usage(
          fmt::format("--by must be tier, city, merchant, day or messages, not '{}'", by));
    if (f == Format::table) {
      fmt::print(out, "{}by {}\n", by == dims.front() ? "" : "\n", by);
      print(out, *t, f);
      continue;
    }
    if (dims.size() == 1) {
      print(out, *t, f);
      return kOk;
    }
    if (all.columns.empty()) {
      all = *t;
      all.columns[0] = "key";
      all.columns.insert(all.columns.begin(), "by");
      all.numeric.insert(all.numeric.begin(), false);
      all.rows.clear();
    }
    for (auto& row : t->rows) {
      row.insert(row.begin(), by);
      all.rows.push_back(std::move(row));
    }
  }
  if (f != Format::table) print(out, all, f);
  else if (!has("by")) {
    fmt::print(out, "\nmessages\n");
    print(out, message_report(*db_), f);
  }
  return kOk;
}

int Ctl::export_redemptions() {
  if (args_.words.size() != 2 || args_.words[1] != "redemptions")
    return usage("export knows one thing: export redemptions --since TIME");
  const std::string since_text = option("since");
  if (since_text.empty()) return usage("export redemptions needs --since TIME (e.g. 2026-10-01)");
  std::optional<Time> since;
  if (!since_text.empty() && since_text.back() == 'Z')
    since = parse_local_time(since_text.substr(0, since_text.size() - 1), "UTC");
  else
    since = parse_local_time(since_text, config_.time_zone);
  if (!since)
    return usage(fmt::format("--since '{}' is not a time like 2026-10-01 or 2026-10-01 08:00",
                             since_text));
  Format f;
  if (!format(&f, Format::csv)) return usage("--format must be table, csv or json");
  print(output(), redemptions_since(*db_, iso_time(*since)), f);
  return kOk;
}

int Ctl::resend() {
  if (args_.words.size() != 2) return usage("resend needs a voucher code or an outbox message id");
  std::string key = args_.words[1];
  std::string code;
  if (check_voucher_code(key, &code) == CodeCheck::ok) key = code;
  else if (key.find_first_not_of("0123456789") != std::string::npos)
    return usage(fmt::format("'{}' is neither a voucher code nor a message id", key));
  Outbox outbox(*db_, ResendPolicy{});
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  const auto id = outbox.resend(key, operator_, now);
  if (!id) return refused(fmt::format("no message for {}", key));
  fmt::print("message {} queued again; giftgated sends it at once\n", *id);
  return kOk;
}

// --- templates -----------------------------------------------------------

int Ctl::templates() {
  const std::string sub = args_.words.size() > 1 ? args_.words[1] : "";
  std::string error;
  if (sub == "check") {
    if (args_.words.size() > 3) return usage("templates check takes one file");
    const std::string path = args_.words.size() == 3 ? args_.words[2] : config_.templates_path;
    if (!Templates::load(path, config_.max_parts, &error)) {
      fmt::print(stderr, "giftctl: {}\n", error);
      return kUsage;
    }
    fmt::print("{}: ok, {} messages in zh and en, each within {} SMS parts\n", path,
               Templates::catalogue().size(), config_.max_parts);
    return kOk;
  }
  if (sub != "render" || args_.words.size() < 3)
    return usage("templates check [FILE] | templates render NAME [key=value ...]");
  const std::string path = has("file") ? option("file") : config_.templates_path;
  const auto t = Templates::load(path, config_.max_parts, &error);
  if (!t) {
    fmt::print(stderr, "giftctl: {}\n", error);
    return kUsage;
  }
  const std::string& name = args_.words[2];
  if (!t->has(name)) return usage(fmt::format("no message '{}' in {}", name, path));
  const std::string language = has("lang") ? option("lang") : "zh";
  if (language != "zh" && language != "en") return usage("--lang must be zh or en");
  TemplateValues values;
  for (std::size_t i = 3; i < args_.words.size(); ++i) {
    const auto& kv = args_.words[i];
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage(fmt::format("'{}' is not key=value", kv));
    values.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  const std::string text = t->render(name, language, values);
  smpp::SplitOptions split;
  const auto characters = std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  fmt::print("{}\n-- {} characters, {} SMS part(s)\n", text, characters,
             smpp::count_parts(text, split));
  return kOk;
}

}  // namespace
}  // namespace giftgate

int main(int argc, char** argv) {
  std::string error;
  auto args = giftgate::parse_args(argc, argv, &error);
  if (!args) {
    fmt::print(stderr, "giftctl: {}\n(giftctl --help lists the commands)\n", error);
    return giftgate::kUsage;
  }
  try {
    return giftgate::Ctl(std::move(*args)).run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "giftctl: {}\n", e.what());
    return giftgate::kRefused;
  }
}
