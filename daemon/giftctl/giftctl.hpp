// giftctl, the operators' tool: its command line and the class whose
// methods are the commands. The files: giftctl_command_line.cpp (every
// command and option, on CLI11), giftctl.cpp (dispatch, main),
// giftctl_campaign.cpp (members, points, vouchers, stock, reports,
// merchants), giftctl_push.cpp (pushes, and their part of the report),
// giftctl_api_keys.cpp (the HTTP API's keys), giftctl_agents.cpp (the
// console's agents),
// giftctl_operations.cpp (messages, templates, reload),
// giftctl_retention.cpp (prune, stats) and giftctl_storage.cpp (backup,
// restore, check).
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "daemon/config/config.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/storage/sqlite.hpp"
#include "daemon/campaign/table.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate::ctl {

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

// A command line the parser accepted: the command's words, then its
// arguments; the options given, each one the command (or every command)
// takes.
struct Args {
  std::vector<std::string> words;              // e.g. "merchant", "disable", "bj-1"
  std::map<std::string, std::string> options;  // name without "--": value, or "" for flags
};

// What a command line asks of giftctl.
struct CommandLine {
  enum class Ask {
    run,        // args: a command to run
    print,      // text: --help (or the command tree) for standard output; exit 0
    usage,      // text: no command given; the help for standard output, exit 2
    bad_usage,  // text: what is wrong; help_for: the command whose --help to suggest
  };
  Ask ask = Ask::bad_usage;
  Args args;
  std::string text;
  std::string help_for;
};

// Reads argv against the tree of commands and options
// (giftctl_command_line.cpp). Never exits, never prints.
CommandLine read_command_line(int argc, const char* const* argv);

// Who is acting, for the event history: the login name.
std::string login_name();

// The account this process really runs as (getuid()), recorded beside the
// operator's name, which the command line or the environment can set.
RealUser real_user();

// One run of giftctl: a command with its arguments, against the config and
// the campaign database.
class Ctl {
 public:
  explicit Ctl(Args args) : args_(std::move(args)) {}

  int run();

 private:
  // Messages quote what was typed or read (a file's row, an argument):
  // escaped like every other output (escape_text).
  int usage(const std::string& message) {
    fmt::print(stderr, "giftctl: {}\n(giftctl --help lists the commands)\n", escape_text(message));
    return kUsage;
  }
  int refused(const std::string& message) {
    fmt::print(stderr, "giftctl: {}\n", escape_text(message));
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
  Actor actor() const { return {"giftctl", operator_, real_user_}; }
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
  int merchant();
  int report();
  int complaints();
  // giftctl_push.cpp: every push command goes to the Pushes class.
  int push();
  // giftctl_api_keys.cpp: the HTTP API's keys (create, list, revoke).
  int api_key();
  // giftctl_agents.cpp: the console's agents (add, list, disable, enable,
  // password).
  int agent();
  // A password from --password-file, standard input (one line) or typed
  // twice at a terminal; nullopt with *why when there is none.
  std::optional<std::string> read_password(std::string* why);
  // The pushes section of report: one row per push; nullopt (*error) on a
  // database error.
  std::optional<Table> push_report(std::string* error);
  // A time an operator typed: wall-clock in the campaign's zone, or UTC
  // with a trailing Z; nullopt (*why may say why) when it is none.
  std::optional<Time> typed_time(const std::string& text, std::string* why = nullptr) const;
  int export_redemptions();
  int templates();
  int resend();
  int reload();
  int prune();
  int stats();
  // giftctl_status.cpp: asks the running giftgated, needs no database.
  int status();
  // giftctl_storage.cpp: each opens the database its own way (not open_db).
  int backup();
  int restore();
  int check();

  Args args_;
  Config config_;
  std::string operator_;
  RealUser real_user_ = real_user();
  std::unique_ptr<db::Database> db_;
  std::ofstream file_;         // --output, created 0600
  std::string output_error_;   // why --output could not be opened privately
};

}  // namespace giftgate::ctl
