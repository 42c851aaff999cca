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

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "daemon/campaign/calendar.hpp"
#include "daemon/storage/schema.hpp"

namespace giftgate::ctl {

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

std::optional<Time> Ctl::typed_time(const std::string& text, std::string* why) const {
  if (!text.empty() && text.back() == 'Z')
    return parse_local_time(std::string_view(text).substr(0, text.size() - 1), "UTC", why);
  return parse_local_time(text, config_.time_zone, why);
}

bool Ctl::format(Format* f, Format fallback) {
  *f = fallback;
  return !has("format") || parse_format(option("format"), f);
}

int Ctl::run() {
  std::string error;
  if (!load_config(&error)) return usage(error);
  const std::string& command = args_.words[0];
  if (command == "templates") return templates();
  if (command == "reload") return reload();
  if (command == "backup") return backup();
  if (command == "restore") return restore();
  if (command == "check") return check();
  if (command == "status") return status();
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
      {"report", &Ctl::report},       {"complaints", &Ctl::complaints},       {"export", &Ctl::export_redemptions},
      {"resend", &Ctl::resend},       {"merchant", &Ctl::merchant},
      {"prune", &Ctl::prune},         {"stats", &Ctl::stats},
      {"push", &Ctl::push},           {"api-key", &Ctl::api_key},
      {"agent", &Ctl::agent},
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
  CommandLine line = read_command_line(argc, argv);
  switch (line.ask) {
    case CommandLine::Ask::print: std::cout << line.text; return kOk;
    case CommandLine::Ask::usage: std::cout << line.text; return kUsage;
    case CommandLine::Ask::bad_usage:
      fmt::print(stderr, "giftctl: {}\n(giftctl {}--help lists {})\n",
                 giftgate::escape_text(line.text),
                 line.help_for.empty() ? "" : line.help_for + " ",
                 line.help_for.empty() ? "the commands" : "its arguments and options");
      return kUsage;
    case CommandLine::Ask::run: break;
  }
  try {
    return Ctl(std::move(line.args)).run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "giftctl: {}\n", giftgate::escape_text(e.what()));
    return kRefused;
  }
}
