// giftctl's command line: every command, its arguments and its options, in
// one CLI11 tree. That tree is the one list of what giftctl accepts: the
// parser checks a command line against it, --help is printed from it, and
// tests/shipped/check-giftctl-man.sh compares man/giftctl.1 with the tree it
// dumps (--command-tree, not shown in --help).
//
// Global options (--config, --db, --operator, --quiet, --help) are taken
// before or after the command, as they always were. Every other option
// belongs to the commands that use it and is an error anywhere else.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <sstream>

#include "daemon/campaign/audience.hpp"
#include "daemon/giftctl/giftctl.hpp"

namespace giftgate::ctl {
namespace {

constexpr const char* kGlobal = "Global options (before or after the command)";
constexpr const char* kOwn = "Options";
constexpr const char* kTreeFlag = "--command-tree";

constexpr const char* kAbout =
    "giftctl, the operators' tool for a giftgate campaign: works on the campaign\n"
    "database directly, also while giftgated runs.\n";

constexpr const char* kFooter =
    "giftctl COMMAND --help shows a command's arguments and options.\n"
    "Exit status: 0 done, 1 refused by a business rule, 2 bad usage or input.";

// An option (or, named without dashes, an argument) whose value is read
// back from the parser rather than stored by it.
CLI::Option* add_plain(CLI::App& app, const std::string& name, const std::string& help) {
  return app.add_option(name, CLI::callback_t{}, help, false);
}
CLI::Option* add_plain_flag(CLI::App& app, const std::string& name, const std::string& help) {
  const std::string description = help;  // const: CLI11's overload for a description
  return app.add_flag(name, description);
}

// CLI11 gives a subcommand only the options added to it, so every level of
// the tree gets its own copy of the global ones, after its own (so that
// --help lists a command's own options first); their values are read back
// from whichever level saw them.
void add_global_options(CLI::App& app) {
  app.set_help_flag("--help", "print the arguments and options of giftctl or a command, exit")
      ->group(kGlobal);
  add_plain(app, "--config",
            "configuration (default: $GIFTGATE_CONFIG, else "
            "/etc/giftgate/giftgate.yaml if present, else built-in)")
      ->type_name("FILE")
      ->group(kGlobal);
  add_plain(app, "--db", "the campaign database (default: storage.path from the config)")
      ->type_name("PATH")
      ->group(kGlobal);
  add_plain(app, "--operator", "who is acting, for the history (default: the login name)")
      ->type_name("NAME")
      ->group(kGlobal);
  add_plain_flag(app, "--quiet", "no progress bar")->group(kGlobal);
  for (CLI::App* sub : app.get_subcommands({})) add_global_options(*sub);
}

// A positional argument, shown by its name in the usage line.
struct Argument {
  const char* name;
  const char* help;
  enum { one, optional, any } count = one;  // any: any number, the last on the line
};

CLI::App* add_command(CLI::App& parent, const char* name, const char* about,
                      std::initializer_list<Argument> arguments = {}) {
  CLI::App* c = parent.add_subcommand(name, about);
  c->group("Commands");
  c->require_subcommand(0, 1);  // a later word that names a command is an argument
  for (const Argument& a : arguments) {
    CLI::Option* o = add_plain(*c, a.name, a.help)->type_name("");
    if (a.count == Argument::one) o->required();
    if (a.count == Argument::any)
      o->expected(0, CLI::detail::expected_max_vector_size)
          ->allow_extra_args()  // CLI11 fills a positional past its minimum only so
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  return c;
}

void add_value(CLI::App* c, const char* name, const char* type, const char* help) {
  add_plain(*c, name, help)->type_name(type)->group(kOwn);
}
void add_flag(CLI::App* c, const char* name, const char* help) {
  add_plain_flag(*c, name, help)->group(kOwn);
}
void add_output(CLI::App* c) {
  add_plain(*c, "--output", "write to FILE (created 0600) instead of standard output")
      ->type_name("FILE")
      ->group(kOwn);
}
void add_table_options(CLI::App* c, const char* default_format = "table") {
  add_plain(*c, "--format", std::string("table, csv or json (default: ") + default_format + ")")
      ->type_name("F")
      ->group(kOwn);
  add_output(c);
}
void add_reason(CLI::App* c) {
  add_value(c, "--reason", "TEXT", "why, for the event history (required)");
}

// The whole tree. Argument names and descriptions are what --help shows.
void add_commands(CLI::App& app) {
  CLI::App* import =
      add_command(app, "import", "load a CSV file (header line first), all or nothing");
  add_command(*import, "members", "members: msisdn, city [, language, opt_out, points]",
              {{"FILE.csv", "the file"}});
  add_command(*import, "merchants", "merchants: id, name, city, kind, level, phones [, offer_TIER]",
              {{"FILE.csv", "the file"}});
  add_command(*import, "activity", "earned points: msisdn, activity, quantity, period [, id]",
              {{"FILE.csv", "the file"}});

  add_output(add_command(app, "member", "the member's balance, ledger, vouchers and history",
                         {{"MSISDN", "the member's phone number"}}));
  add_output(
      add_command(app, "voucher", "a voucher and its timeline", {{"CODE", "the voucher's code"}}));

  CLI::App* points = add_command(
      app, "points", "add or take points",
      {{"MSISDN", "the member's phone number"}, {"+N|-N", "the points to add or take"}});
  add_reason(points);

  add_table_options(add_command(app, "stock",
                                "set the stock of a tier in a city; without arguments, list it",
                                {{"TIER", "the tier", Argument::optional},
                                 {"CITY", "the city", Argument::optional},
                                 {"N", "how many", Argument::optional}}));

  CLI::App* redeem =
      add_command(app, "redeem", "redeem for a member (call centre), no confirmation",
                  {{"MSISDN", "the member's phone number"}, {"TIER", "the tier"}});
  add_value(redeem, "--request", "ID",
            "the same ID again returns the voucher issued the first time");

  CLI::App* void_ = add_command(app, "void", "void an unused voucher, its points given back",
                                {{"CODE", "the voucher's code"}});
  add_reason(void_);
  add_flag(void_, "--no-refund", "keep the points");
  add_reason(add_command(app, "reinstate", "make a wrongly used voucher usable again",
                         {{"CODE", "the voucher's code"}}));

  add_table_options(add_command(app, "lockouts", "merchants locked out for failed verifications"));
  add_reason(add_command(app, "unlock", "lift a lock-out early",
                         {{"MERCHANT", "the merchant's id or one of its numbers"}}));

  CLI::App* merchant = add_command(app, "merchant",
                                   "list, disable or enable merchants, or take "
                                   "a number from one");
  add_table_options(
      add_command(*merchant, "list", "every merchant: enabled or disabled, numbers, offers"));
  add_reason(add_command(*merchant, "disable",
                         "stop a merchant verifying and being listed to members; at once, also "
                         "for giftgated",
                         {{"ID", "the merchant's id"}}));
  add_reason(add_command(*merchant, "enable", "let a disabled merchant verify and be listed again",
                         {{"ID", "the merchant's id"}}));
  add_reason(add_command(*merchant, "remove-number",
                         "take a number from a merchant: it verifies no more",
                         {{"ID", "the merchant's id"}, {"MSISDN", "the number"}}));

  CLI::App* report =
      add_command(app, "report", "issued, used, points and value; messages: outbound SMS by state");
  add_value(report, "--by", "tier|city|merchant|day|messages|pushes|complaints",
            "one grouping (default: all)");
  add_table_options(report);
  CLI::App* complaints = add_command(app, "complaints",
                                     "members' complaints, oldest first, with their age (as the console lists them)");
  add_value(complaints, "--state", "open|closed|all", "which (default: open)");
  add_table_options(complaints);

  CLI::App* push = add_command(app, "push",
                               "messages the campaign sends first, to an audience of members: "
                               "create, follow, pause, measure");
  CLI::App* create = add_command(
      *push, "create", "a push of a push_ text to the members an audience expression matches",
      {{"NAME", "the push's name: 1 to 40 of a-z, 0-9, '-', '_'"}});
  add_value(create, "--template", "T", "the push_ text in templates.path (required)");
  add_value(create, "--audience", "EXPR",
            "which members, e.g. 'city = beijing and balance >= 5000' (required)");
  add_value(create, "--at", "TIME",
            "when it starts, in the campaign's zone (2026-12-24 10:00); default: now");
  add_value(create, "--until", "TIME",
            "when what is left of it expires, in the campaign's zone; default: never");
  add_value(create, "--holdout", "PCT", "0 to 90: the share set aside, never sent, to compare");
  add_value(create, "--rate", "N", "messages a second (default: pushes.rate)");
  add_flag(create, "--dry-run", "only count the audience: nothing is created, nothing sent");
  create->footer(describe_audience_grammar());  // the parser's own words
  add_table_options(add_command(*push, "list",
                                "every push, newest first: state, window, recipients, messages"));
  CLI::App* show = add_command(*push, "show",
                               "a push: its settings, recipients and messages by state, and its "
                               "effect against the holdout",
                               {{"NAME", "the push"}});
  add_value(show, "--format", "F", "text, csv or json (default: text)");
  add_output(show);
  add_command(*push, "pause", "stop queueing; the messages already queued go",
              {{"NAME", "the push"}});
  add_command(*push, "resume", "go on with a paused push", {{"NAME", "the push"}});
  add_command(*push, "cancel", "end a push: what has not gone is not sent",
              {{"NAME", "the push"}});
  add_command(*push, "test", "send the push's text to staff numbers now, each rendered for it",
              {{"NAME", "the push"}, {"MSISDN", "a staff number (one or more)", Argument::any}});

  CLI::App* api_key = add_command(app, "api-key",
                                  "the HTTP API's clients: create a key (shown once), list "
                                  "them, revoke one");
  CLI::App* key_create =
      add_command(*api_key, "create", "a key for a terminal, the desk, the points system or the "
                                      "website; printed once, only its hash kept",
                  {{"NAME", "the key's name: 1 to 40 of A-Z, a-z, 0-9, '.', '_', '-'"}});
  add_value(key_create, "--role", "merchant|desk|points|web", "what the key may do (required)");
  add_value(key_create, "--merchant", "ID", "the merchant a merchant key verifies for");
  add_table_options(add_command(*api_key, "list",
                                "every key, revoked ones too: role, merchant, created, revoked, "
                                "last used (never the key)"));
  add_reason(add_command(*api_key, "revoke", "refuse a key from its next request on",
                         {{"NAME", "the key"}}));

  CLI::App* agent = add_command(app, "agent",
                                "the service desk console's accounts: add one, list them, "
                                "disable, enable, set a password");
  const auto add_password_file = [](CLI::App* c) {
    add_value(c, "--password-file", "FILE",
              "read the password from FILE's first line (default: standard input, one line; "
              "at a terminal, typed twice unechoed)");
    return c;
  };
  CLI::App* agent_add = add_password_file(
      add_command(*agent, "add", "an account for the console; its password is read, never an "
                                 "argument, and kept only as a scrypt hash",
                  {{"NAME", "the agent's name: 1 to 32 of a-z, 0-9, '.', '_', '-'"}}));
  add_value(agent_add, "--role", "agent|supervisor",
            "what the agent may do: supervisors also reinstate and correct points (required)");
  add_table_options(add_command(*agent, "list",
                                "every agent: role, disabled, failures, locked until, last "
                                "sign-in, created (never a password)"));
  add_reason(add_command(*agent, "disable", "end the agent's sessions and refuse sign-in",
                         {{"NAME", "the agent"}}));
  add_reason(add_command(*agent, "enable", "let a disabled agent sign in again",
                         {{"NAME", "the agent"}}));
  add_password_file(add_command(*agent, "password",
                                "set a new password (read as for add); lifts a lock-out and ends "
                                "the agent's sessions",
                                {{"NAME", "the agent"}}));

  add_command(app, "resend", "send a voucher's SMS (or any message) again",
              {{"CODE|MESSAGE-ID", "a voucher's code or an outbox message's id"}});

  CLI::App* export_ =
      add_command(app, "export", "vouchers issued since a time, for the points system");
  CLI::App* redemptions = add_command(*export_, "redemptions", "vouchers issued since TIME");
  add_value(redemptions, "--since", "TIME",
            "2026-10-01 or 2026-10-01 08:00 in the campaign's zone, or UTC with a trailing Z "
            "(required)");
  add_table_options(redemptions, "csv");

  CLI::App* templates = add_command(app, "templates",
                                    "check a messages or menus file, or "
                                    "render one message");
  CLI::App* check = add_command(*templates, "check",
                                "check a messages file (default: templates.path), or with "
                                "--menus a USSD menus file (default: ussd.menus)",
                                {{"FILE", "the file", Argument::optional}});
  add_flag(check, "--menus", "the file is a USSD menus file");
  CLI::App* render = add_command(
      *templates, "render", "show one message filled with the given values",
      {{"NAME", "the message"}, {"VALUES", "key=value: a placeholder's value", Argument::any}});
  add_value(render, "--lang", "zh|en", "the language (default: zh)");
  add_value(render, "--file", "FILE", "the messages file (default: templates.path)");

  CLI::App* prune = add_command(app, "prune",
                                "prune what the retention section says is old enough, now, in "
                                "short batches (also while giftgated runs)");
  add_flag(prune, "--dry-run", "only show, per kind, the rows that would go and the cut-off");
  add_table_options(prune);
  add_output(add_command(app, "stats",
                         "the database's size by table and index, free pages, write-ahead log, "
                         "and its growth per day"));

  add_command(app, "status",
              "each SMSC and bind of the running giftgated: state, bound since, window in use, "
              "rate, submits, receipts and MOs a second, last error");

  add_command(app, "check-config", "load the configuration, report, exit");

  add_flag(add_command(app, "backup",
                       "a consistent copy of the database, also while giftgated runs; checked, "
                       "then written 0600",
                       {{"FILE", "the copy to write"}}),
           "--force", "replace FILE if it exists");
  add_command(app, "restore",
              "put a checked backup in the database's place (giftgated stopped); the replaced "
              "database is kept aside",
              {{"FILE", "the backup"}});
  add_flag(add_command(app, "check",
                       "the database's integrity and the campaign's rules, read from one "
                       "snapshot; exit 1 when any fails"),
           "--quick", "quick_check instead of the full integrity_check");
  add_command(app, "reload",
              "check the templates, then make the giftgated running on the database reload "
              "them with its keywords");
}

// The app's path from the top, without "giftctl": "merchant disable".
std::string path_of(const CLI::App* app) {
  std::string path;
  for (; app && app->get_parent(); app = app->get_parent())
    path = path.empty() ? app->get_name() : app->get_name() + " " + path;
  return path;
}

bool is_option_word(const std::string& word) {
  // "-8000" is an argument (points), as CLI11 reads it too.
  return word.size() > 1 && word[0] == '-' && !(word[1] >= '0' && word[1] <= '9');
}

std::string option_name(const std::string& word) { return word.substr(0, word.find('=')); }

bool has_option(const CLI::App* app, const std::string& name) {
  for (const CLI::Option* o : app->get_options())
    if (!o->get_positional() && o->check_name(name)) return true;
  return false;
}

// The commands that take the option `name`, for a message.
std::vector<std::string> commands_with(const CLI::App* app, const std::string& name) {
  std::vector<std::string> found;
  for (const CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_subcommands({}).empty()) {
      if (has_option(sub, name)) found.push_back(path_of(sub));
    } else {
      const auto deeper = commands_with(sub, name);
      found.insert(found.end(), deeper.begin(), deeper.end());
    }
  }
  return found;
}

template <typename AppPointers>
std::string names_of(const AppPointers& apps) {
  std::string names;
  for (const CLI::App* a : apps) names += (names.empty() ? "" : ", ") + a->get_name();
  return names;
}

// One line per leaf command: "command<TAB>PATH<TAB>its own options", after
// one line "global<TAB><TAB>the global options".
void dump_tree(const CLI::App* app, std::ostream& out) {
  const auto options = [](const CLI::App* a, bool global) {
    std::vector<std::string> names;
    for (const CLI::Option* o : a->get_options())
      if (!o->get_positional() && (o->get_group() == kGlobal) == global && !o->get_group().empty())
        names.push_back("--" + o->get_lnames().front());
    std::sort(names.begin(), names.end());
    std::string line;
    for (const auto& n : names) line += (line.empty() ? "" : " ") + n;
    return line;
  };
  if (!app->get_parent()) out << "global\t\t" << options(app, true) << "\n";
  for (const CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_subcommands({}).empty())
      out << "command\t" << path_of(sub) << "\t" << options(sub, false) << "\n";
    else
      dump_tree(sub, out);
  }
}

CommandLine bad(std::string message, const CLI::App* about) {
  CommandLine c;
  c.ask = CommandLine::Ask::bad_usage;
  c.text = std::move(message);
  c.help_for = about ? path_of(about) : std::string();
  return c;
}

// Options and arguments the tree has no place for: the first one, said
// as a person would want it said.
std::optional<CommandLine> left_over(const CLI::App& top, const std::vector<CLI::App*>& chain) {
  const CLI::App* leaf = chain.back();
  const std::string command = path_of(leaf);
  for (const CLI::App* app : chain)
    for (const std::string& word : app->remaining())
      if (is_option_word(word)) {
        const std::string name = option_name(word);
        const auto takers = commands_with(&top, name);
        if (takers.empty()) return bad("unknown option " + name, nullptr);
        if (leaf->get_parent() && has_option(leaf, name))
          return bad(name + " is an option of " + command + ": give it after the command", leaf);
        if (!leaf->get_parent() || !leaf->get_subcommands({}).empty()) {
          std::string list;
          for (const auto& t : takers) list += (list.empty() ? "" : ", ") + t;
          return bad(name + " is an option of these commands, given after them: " + list, nullptr);
        }
        return bad(name + " is not an option of " + command, leaf);
      }
  for (const CLI::App* app : chain) {
    const auto extra = app->remaining();
    if (extra.empty()) continue;
    if (!app->get_parent()) return bad("unknown command '" + extra.front() + "'", nullptr);
    if (!app->get_subcommands({}).empty())
      return bad(path_of(app) + ": unknown subcommand '" + extra.front() + "' (" +
                     names_of(app->get_subcommands({})) + ")",
                 app);
    return bad(command + ": one argument too many: '" + extra.front() + "'", app);
  }
  return std::nullopt;
}

}  // namespace

CommandLine read_command_line(int argc, const char* const* argv) {
  CLI::App app(kAbout, "giftctl");
  // Today's habits: a later --reason replaces an earlier one, and words the
  // tree has no place for are reported by left_over(), in giftctl's words.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.allow_extras();
  app.require_subcommand(0, 1);
  auto formatter = std::make_shared<CLI::Formatter>();
  formatter->label("Usage", "usage");
  formatter->label("OPTIONS", "options");
  formatter->label("SUBCOMMAND", "COMMAND");
  formatter->label("Positionals", "Arguments");
  formatter->label("REQUIRED", "");  // the usage line shows which are optional
  formatter->column_width(34);
  app.formatter(formatter);
  add_plain_flag(app, kTreeFlag, "")->group("");  // for the man page's test; not in --help
  add_commands(app);
  add_global_options(app);
  app.footer(kFooter);

  CommandLine result;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.ask = CommandLine::Ask::print;
    result.text = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    // A missing argument, an option without its value: said of the command.
    const CLI::App* leaf = &app;
    while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands()[0];
    std::string message = e.what();
    // CLI11 says "--reason: 1 required TEXT missing"; giftctl always said
    // "--reason needs a value".
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && message.rfind("--", 0) == 0 &&
        message.find(':') != std::string::npos)
      message = message.substr(0, message.find(':')) + " needs a value";
    if (!leaf->get_parent()) return bad(message, nullptr);
    return bad(path_of(leaf) + ": " + message, leaf);
  }
  if (app.get_option(kTreeFlag)->count() > 0) {
    std::ostringstream tree;
    dump_tree(&app, tree);
    result.ask = CommandLine::Ask::print;
    result.text = tree.str();
    return result;
  }

  std::vector<CLI::App*> chain = {&app};
  while (!chain.back()->get_subcommands().empty())
    chain.push_back(chain.back()->get_subcommands()[0]);
  if (auto error = left_over(app, chain)) return *error;
  CLI::App* leaf = chain.back();
  if (!leaf->get_parent()) {
    result.ask = CommandLine::Ask::usage;
    result.text = app.help();
    return result;
  }
  if (!leaf->get_subcommands({}).empty())
    return bad(path_of(leaf) + " needs one of: " + names_of(leaf->get_subcommands({})), leaf);

  result.ask = CommandLine::Ask::run;
  for (const CLI::App* level : chain) {
    if (level != &app) result.args.words.push_back(level->get_name());
    for (const CLI::Option* o : level->get_options()) {
      if (o->count() == 0) continue;
      if (o->get_positional()) {
        for (const auto& value : o->results()) result.args.words.push_back(value);
      } else {
        // A flag's results are "true"s; Args keeps "" for a flag.
        result.args.options[o->get_lnames().front()] =
            o->get_type_size_max() == 0 ? std::string() : o->results().back();
      }
    }
  }
  return result;
}

}  // namespace giftgate::ctl
