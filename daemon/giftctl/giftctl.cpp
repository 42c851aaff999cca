// giftctl: the operators' tool. Works on the campaign database directly,
// also while giftgated runs (SQLite WAL; writes wait for the daemon's
// transactions up to storage.busy_timeout_ms).
//
// Exit status: 0 done, 1 refused by a business rule (or the database was
// unavailable), 2 bad usage or bad input. Errors go to stderr and say what
// and where.
#include "daemon/giftctl/giftctl.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "daemon/storage/schema.hpp"

namespace giftgate::ctl {
namespace {

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
  lockouts                       merchants locked out for failed verifications
  unlock MERCHANT --reason TEXT  lift a lock-out early (merchant id or number)
  merchant list                  every merchant: enabled or disabled, numbers, offers
  merchant disable|enable ID --reason TEXT
                                 stop a merchant verifying and being listed to
                                 members, or let it again; at once, also for giftgated
  merchant remove-number ID MSISDN --reason TEXT
                                 take a number from a merchant: it verifies no more
  report [--by tier|city|merchant|day|messages]
                                 issued, used, points and value (all if no --by);
                                 messages: outbound SMS by state
  resend CODE|MESSAGE-ID         send a voucher's SMS (or any message) again
  export redemptions --since TIME
                                 vouchers issued since TIME, for the points system
  templates check [FILE]         check a messages file (default: templates.path)
  templates check --menus [FILE] check a USSD menus file (default: ussd.menus)
  templates render NAME [--lang zh|en] [--file FILE] [key=value ...]
                                 show one message filled with the given values
  check-config                   load the configuration, report, exit
  reload                         check the templates, then make the giftgated running on
                                 the database reload them with its keywords

Options:
  --config FILE     configuration (default: $GIFTGATE_CONFIG, else
                    /etc/giftgate/giftgate.yaml if present, else built-in)
  --db PATH         the campaign database (default: storage.path from the config)
  --operator NAME   who is acting, for the history (default: the login name)
  --format F        table, csv or json (report, export, stock, lockouts,
                    merchant list)
  --output FILE     write report or export output to FILE
  --quiet           no progress bar
  --lang L, --file F
                    for templates render: the language and the messages file
  --help            this text

Exit status: 0 done, 1 refused by a business rule, 2 bad usage or input.
)";

bool is_flag(const std::string& name) {
  return name == "no-refund" || name == "quiet" || name == "help" || name == "menus";
}

}  // namespace

// Options may come anywhere; "--name=value" and "--name value" both work.
std::optional<Args> parse_args(int argc, char** argv, std::string* error) {
  static const char* known[] = {"config", "db", "operator", "format", "output", "reason",
                                "since", "by", "request", "lang", "file", "no-refund", "quiet",
                                "help", "menus"};
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

RealUser real_user() {
  RealUser user;
  user.uid = ::getuid();
  if (const passwd* pw = ::getpwuid(::getuid())) user.name = pw->pw_name;
  return user;
}

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
  if (file_.is_open() || !output_error_.empty()) return file_;
  // Reports and exports hold members' numbers and unused voucher codes, and
  // a code is as good as the voucher: the file is created 0600 by open(2),
  // and one that exists is made 0600, before anything is written to it.
  const std::string path = option("output");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0)
    output_error_ = fmt::format("{}: {}", path, std::strerror(errno));
  else if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 &&
           ::fchmod(fd, st.st_mode & 0700) != 0)
    output_error_ = fmt::format("{}: mode {:04o} lets others read it, and it cannot be made "
                                "0600: {}; nothing written",
                                path, st.st_mode & 07777, std::strerror(errno));
  if (fd >= 0) ::close(fd);
  if (output_error_.empty()) file_.open(path, std::ios::binary | std::ios::trunc);
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
  if (command == "reload") return reload();
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
      {"resend", &Ctl::resend},       {"merchant", &Ctl::merchant},
  };
  const auto it = commands.find(command);
  const bool correction = command == "void" || command == "reinstate";
  if (it == commands.end() && !correction)
    return usage(fmt::format("unknown command '{}'", command));
  if (!open_db(&error)) return refused(error);
  const int rc = correction ? void_or_reinstate(command == "reinstate") : (this->*it->second)();
  if (!output_error_.empty()) return refused(output_error_);
  if (file_.is_open() && !file_.good())
    return refused(fmt::format("{}: could not be written", option("output")));
  return rc;
}

}  // namespace giftgate::ctl

int main(int argc, char** argv) {
  using namespace giftgate::ctl;
  std::string error;
  auto args = parse_args(argc, argv, &error);
  if (!args) {
    fmt::print(stderr, "giftctl: {}\n(giftctl --help lists the commands)\n",
               giftgate::escape_text(error));
    return kUsage;
  }
  try {
    return Ctl(std::move(*args)).run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "giftctl: {}\n", giftgate::escape_text(e.what()));
    return kRefused;
  }
}
