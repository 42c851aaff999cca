// giftctl agent: the service desk's console accounts
// (daemon/campaign/agents.hpp). A password is read, never taken as an
// argument (an argument is in the shell's history and in ps): the first
// line of --password-file, or of standard input, or typed twice at a
// terminal without echo. It is never printed, and the history records only
// that it was set.
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "daemon/campaign/agents.hpp"
#include "daemon/campaign/calendar.hpp"
#include "daemon/giftctl/giftctl.hpp"

namespace giftgate::ctl {
namespace {

Time now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// A stored time on the campaign's clocks, for the table; empty stays empty.
std::string local(const std::optional<std::string>& iso, const std::string& zone) {
  if (!iso || iso->empty()) return "";
  const auto t = parse_iso_time(*iso);
  return t ? format_local_time(zone, *t) : *iso;
}

// One line without its end ("\n", "\r\n"); false at the end of the input.
bool read_line(std::istream& in, std::string* line) {
  if (!std::getline(in, *line)) return false;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

// Asks at the terminal with echo off; echo comes back even when reading fails.
bool ask_hidden(const char* prompt, std::string* line) {
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  termios saved{};
  const bool terminal = tcgetattr(STDIN_FILENO, &saved) == 0;
  if (terminal) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  const bool got = read_line(std::cin, line);
  if (terminal) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  fmt::print(stderr, "\n");
  return got;
}

// The name as the database keeps it (lower case), for messages.
std::string folded(std::string name) {
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return name;
}

}  // namespace

std::optional<std::string> Ctl::read_password(std::string* why) {
  std::string password;
  if (has("password-file")) {
    std::ifstream file(option("password-file"));
    if (!file || !read_line(file, &password)) {
      *why = fmt::format("{}: cannot be read, or is empty", option("password-file"));
      return std::nullopt;
    }
  } else if (isatty(STDIN_FILENO)) {
    std::string again;
    if (!ask_hidden("Password: ", &password) || !ask_hidden("Again: ", &again)) {
      *why = "no password typed";
      return std::nullopt;
    }
    if (password != again) {
      *why = "the two passwords typed differ";
      return std::nullopt;
    }
  } else if (!read_line(std::cin, &password)) {
    *why = "no password on standard input (one line), nor --password-file";
    return std::nullopt;
  }
  if (password.empty()) {
    *why = "the password is empty";
    return std::nullopt;
  }
  return password;
}

int Ctl::agent() {
  const std::string sub = args_.words.size() > 1 ? args_.words[1] : "";
  Agents agents(*db_);
  const auto database_refused = [&] {
    return refused(fmt::format("the database refused: {}", agents.last_error()));
  };

  if ((sub == "add" || sub == "password") && args_.words.size() == 3) {
    const std::string& name = args_.words[2];
    std::optional<AgentRole> role;
    if (sub == "add") {
      if (!has("role")) return usage("agent add needs --role agent|supervisor");
      role = parse_agent_role(option("role"));
      if (!role)
        return usage(fmt::format("--role '{}' is neither agent nor supervisor", option("role")));
    }
    std::string why;
    const auto password = read_password(&why);
    if (!password) return usage(why);
    const auto result = sub == "add"
                            ? agents.add(name, *role, *password, actor(), now_seconds())
                            : agents.set_password(name, *password, actor(), now_seconds());
    switch (result) {
      case Agents::Result::ok:
        if (sub == "add")
          fmt::print("agent {} added (role {})\n", escape_text(folded(name)), to_string(*role));
        else
          fmt::print("agent {}: password set; any lock-out lifted, every session ended\n",
                     escape_text(folded(name)));
        return kOk;
      case Agents::Result::invalid:
      case Agents::Result::weak_password: return usage(agents.last_error());
      case Agents::Result::exists:
      case Agents::Result::unknown: return refused(agents.last_error());
      case Agents::Result::failed: break;
    }
    return database_refused();
  }

  if (sub == "list" && args_.words.size() == 2) {
    Format f;
    if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
    std::string error;
    const auto all = agents.list(&error);
    if (!all) return database_refused();
    Table t;
    for (const char* c : {"name", "role", "disabled", "failures", "locked_until", "last_sign_in",
                          "created_at"})
      t.add_column(c);
    const auto when = [&](const std::optional<std::string>& iso) {
      return f == Format::table ? local(iso, config_.time_zone) : iso.value_or("");
    };
    for (const auto& a : *all)
      t.rows.push_back({a.name, std::string(to_string(a.role)), a.disabled ? "yes" : "no",
                        std::to_string(a.failures), when(a.locked_until), when(a.last_sign_in),
                        when(a.created_at)});
    print(output(), t, f);
    return kOk;
  }

  if ((sub == "disable" || sub == "enable") && args_.words.size() == 3) {
    const std::string& name = args_.words[2];
    const bool disable = sub == "disable";
    if (option("reason").empty()) return usage(fmt::format("agent {} needs --reason TEXT", sub));
    // Said plainly when there is nothing to do, rather than "done".
    std::string error;
    const auto all = agents.list(&error);
    if (!all) return database_refused();
    const auto it = std::find_if(all->begin(), all->end(),
                                 [&](const Agent& a) { return a.name == folded(name); });
    if (it == all->end()) return refused(fmt::format("no agent {}", name));
    if (it->disabled == disable)
      return refused(
          fmt::format("agent {} is already {}", folded(name), disable ? "disabled" : "enabled"));
    switch (agents.set_disabled(name, disable, option("reason"), actor(), now_seconds())) {
      case Agents::Result::ok:
        if (disable)
          fmt::print("agent {} disabled: signed out now, cannot sign in\n",
                     escape_text(folded(name)));
        else
          fmt::print("agent {} enabled: can sign in again\n", escape_text(folded(name)));
        return kOk;
      case Agents::Result::invalid: return usage(agents.last_error());
      case Agents::Result::unknown: return refused(agents.last_error());
      case Agents::Result::exists:
      case Agents::Result::weak_password:
      case Agents::Result::failed: break;
    }
    return database_refused();
  }
  return usage("agent add NAME --role agent|supervisor [--password-file FILE] | agent list | "
               "agent disable NAME --reason TEXT | agent enable NAME --reason TEXT | "
               "agent password NAME [--password-file FILE]");
}

}  // namespace giftgate::ctl
