// giftctl's push commands: create (or only count) a push, list them, show
// one with its effect, pause, resume, cancel, and a test send to staff
// numbers; and the pushes section of report. Every rule is the Pushes
// class's (daemon/campaign/pushes.hpp): this file reads the command line,
// calls it, and prints what it says.
#include <charconv>
#include <chrono>
#include <iostream>

#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/dashboard.hpp"
#include "daemon/campaign/pushes.hpp"
#include "daemon/giftctl/giftctl.hpp"

namespace giftgate::ctl {
namespace {

// Objects keep their keys in the order written: show's order.
using Json = nlohmann::ordered_json;

Time now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// A whole number as typed ("10", or "10%" for a share); nullopt for
// anything else. Whether it is in range is the Pushes class's to say.
std::optional<int> whole_number(std::string text, bool percent) {
  if (percent && !text.empty() && text.back() == '%') text.pop_back();
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// The recipients' states as push_recipients names them, in the order shown,
// with the words a person reads.
struct RecipientState {
  const char* key;
  const char* words;
};
constexpr RecipientState kRecipientStates[] = {
    {"queued", "queued"},       {"opted_out", "opted out"}, {"too_soon", "too soon"},
    {"pending", "waiting"},     {"expired", "expired"},     {"cancelled", "cancelled"},
};

std::int64_t count_of(const std::map<std::string, std::int64_t>& counts, const std::string& key) {
  const auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

// The share of a group that redeemed within kDays[window], in percent;
// nullopt for a group of nobody.
std::optional<double> redemption_pct(const PushEffect::Group& g, std::size_t window) {
  if (g.members == 0) return std::nullopt;
  return 100.0 * static_cast<double>(g.redeemed[window]) / static_cast<double>(g.members);
}

std::string pct_text(std::optional<double> pct) {
  return pct ? fmt::format("{:.1f}%", *pct) : "-";
}
// For CSV and the report's tables: a bare number, empty when there is none.
std::string number_text(std::optional<double> v) {
  return v ? fmt::format("{:.2f}", *v) : std::string();
}
std::string lift_text(std::optional<double> lift) {
  return lift ? fmt::format("{:+.1f} pp", *lift) : "-";
}

// A stored time ("2026-12-24T02:00:00Z") on the campaign's clocks.
std::string local(const std::string& iso, const std::string& zone) {
  if (iso.empty()) return "";
  const auto t = parse_iso_time(iso);
  return t ? format_local_time(zone, *t) : iso;
}

std::string rate_words(const PushInfo& info, const PushSettings& settings) {
  if (info.rate) return fmt::format("{} messages a second", *info.rate);
  if (settings.rate > 0) return fmt::format("{} messages a second (pushes.rate)", settings.rate);
  return "what the answers leave (pushes.rate 0)";
}

// Text from the database or the command line as JSON holds it: the text as
// stored, but a byte that is not UTF-8 as the text \xNN, as every other
// JSON giftctl writes has it (escape_text's JSON form, read back).
Json json_text(const std::string& text) {
  if (text.empty()) return "";
  return Json::parse("\"" + escape_text(text, Escaping::json) + "\"");
}
Json json_time(const std::string& iso) {
  return iso.empty() ? Json(nullptr) : json_text(iso);
}
Json json_number(std::optional<double> v) {
  return v ? Json(*v) : Json(nullptr);
}

std::string day_words(int days) { return days == 1 ? "1 day" : fmt::format("{} days", days); }

void print_text(std::ostream& out, const PushInfo& info, const PushEffect& effect,
                const Config& config) {
  const std::string& zone = config.time_zone;
  fmt::print(out, "push      {}\n", escape_text(info.name));
  fmt::print(out, "state     {}{}\n", info.state, info.paused ? " (paused)" : "");
  fmt::print(out, "template  {}\n", escape_text(info.template_name));
  fmt::print(out, "audience  {}\n", escape_text(info.audience));
  fmt::print(out, "window    from {} {}({})\n", local(info.start_at, zone),
             info.until_at.empty() ? std::string("with no end ")
                                   : "until " + local(info.until_at, zone) + " ",
             zone);
  fmt::print(out, "holdout   {}%\n", info.holdout_pct);
  fmt::print(out, "rate      {}\n", rate_words(info, config.pushes));
  fmt::print(out, "created   {} by {}\n", local(info.created_at, zone),
             escape_text(info.created_by));
  if (!info.started_at.empty()) fmt::print(out, "started   {}\n", local(info.started_at, zone));
  if (!info.finished_at.empty()) fmt::print(out, "finished  {}\n", local(info.finished_at, zone));

  fmt::print(out, "\nrecipients\n");
  fmt::print(out, "  {:<18}{:>10}\n", "targeted", info.targeted);
  fmt::print(out, "  {:<18}{:>10}\n", "held out", info.held_out);
  for (const auto& s : kRecipientStates)
    fmt::print(out, "  {:<18}{:>10}\n", s.words, count_of(info.recipients, s.key));

  const PushMessages& m = info.messages;
  fmt::print(out, "\nmessages\n");
  for (const auto& [words, n] : {std::pair{"queued", m.queued}, {"submitted", m.submitted},
                                 {"sent", m.sent}, {"delivered", m.delivered},
                                 {"failed", m.failed}, {"expired", m.expired}})
    fmt::print(out, "  {:<18}{:>10}\n", words, n);

  fmt::print(out, "\neffect: members with a voucher issued within N days of their turn\n");
  fmt::print(out, "  {:<18}{:>18}{:>18}{:>12}\n", "", "sent", "holdout", "lift");
  fmt::print(out, "  {:<18}{:>18}{:>18}\n", "members", effect.sent.members, effect.holdout.members);
  for (std::size_t i = 0; i < PushEffect::kDays.size(); ++i) {
    const auto cell = [&](const PushEffect::Group& g) {
      return fmt::format("{} {:>7}", g.redeemed[i], pct_text(redemption_pct(g, i)));
    };
    fmt::print(out, "  {:<18}{:>18}{:>18}{:>12}\n", "within " + day_words(PushEffect::kDays[i]),
               cell(effect.sent), cell(effect.holdout), lift_text(effect.lift(i)));
  }
  fmt::print(out, "  {:<18}{:>18}\n", "opted out since", effect.opted_out_since);
}

// One flat row: every figure of show, for a spreadsheet.
Table flat_table(const PushInfo& info, const PushEffect& effect) {
  Table t;
  std::vector<std::string> row;
  const auto text = [&](const char* column, std::string value) {
    t.add_column(column);
    row.push_back(std::move(value));
  };
  const auto number = [&](std::string column, std::string value) {
    t.add_column(std::move(column), true);
    row.push_back(std::move(value));
  };
  text("name", info.name);
  text("state", info.state);
  number("paused", info.paused ? "1" : "0");
  text("template", info.template_name);
  text("audience", info.audience);
  text("start_at", info.start_at);
  text("until_at", info.until_at);
  number("holdout_pct", std::to_string(info.holdout_pct));
  number("rate", info.rate ? std::to_string(*info.rate) : "");
  number("targeted", std::to_string(info.targeted));
  number("held_out", std::to_string(info.held_out));
  for (const auto& s : kRecipientStates)
    number(std::string("recipients_") + s.key, std::to_string(count_of(info.recipients, s.key)));
  const PushMessages& m = info.messages;
  for (const auto& [name, n] : {std::pair{"queued", m.queued}, {"submitted", m.submitted},
                                {"sent", m.sent}, {"delivered", m.delivered},
                                {"failed", m.failed}, {"expired", m.expired}})
    number(std::string("messages_") + name, std::to_string(n));
  for (const auto& [group, g] : {std::pair{"sent", &effect.sent}, {"holdout", &effect.holdout}}) {
    number(fmt::format("{}_members", group), std::to_string(g->members));
    for (std::size_t i = 0; i < PushEffect::kDays.size(); ++i) {
      number(fmt::format("{}_redeemed_{}d", group, PushEffect::kDays[i]),
             std::to_string(g->redeemed[i]));
      number(fmt::format("{}_rate_{}d_pct", group, PushEffect::kDays[i]),
             number_text(redemption_pct(*g, i)));
    }
  }
  for (std::size_t i = 0; i < PushEffect::kDays.size(); ++i)
    number(fmt::format("lift_{}d_pp", PushEffect::kDays[i]), number_text(effect.lift(i)));
  number("opted_out_since", std::to_string(effect.opted_out_since));
  t.rows.push_back(std::move(row));
  return t;
}

Json json_object(const PushInfo& info, const PushEffect& effect) {
  Json recipients = Json::object();
  recipients["holdout"] = info.held_out;
  for (const auto& s : kRecipientStates) recipients[s.key] = count_of(info.recipients, s.key);
  const PushMessages& m = info.messages;
  const auto group = [](const PushEffect::Group& g) {
    Json rates = Json::array();
    for (std::size_t i = 0; i < PushEffect::kDays.size(); ++i)
      rates.push_back(json_number(redemption_pct(g, i)));
    return Json{{"members", g.members},
                {"redeemed", Json(g.redeemed)},
                {"rate_pct", rates}};
  };
  Json lift = Json::array();
  for (std::size_t i = 0; i < PushEffect::kDays.size(); ++i)
    lift.push_back(json_number(effect.lift(i)));
  return Json{
      {"name", json_text(info.name)},
      {"state", info.state},
      {"paused", info.paused},
      {"template", json_text(info.template_name)},
      {"audience", json_text(info.audience)},
      {"start_at", json_time(info.start_at)},
      {"until_at", json_time(info.until_at)},
      {"created_at", json_time(info.created_at)},
      {"created_by", json_text(info.created_by)},
      {"started_at", json_time(info.started_at)},
      {"finished_at", json_time(info.finished_at)},
      {"holdout_pct", info.holdout_pct},
      {"rate", info.rate ? Json(*info.rate) : Json(nullptr)},
      {"targeted", info.targeted},
      {"held_out", info.held_out},
      {"recipients", recipients},
      {"messages",
       {{"queued", m.queued},
        {"submitted", m.submitted},
        {"sent", m.sent},
        {"delivered", m.delivered},
        {"failed", m.failed},
        {"expired", m.expired}}},
      {"effect",
       {{"days", Json(PushEffect::kDays)},
        {"sent", group(effect.sent)},
        {"holdout", group(effect.holdout)},
        {"lift_pp", lift},
        {"opted_out_since", effect.opted_out_since}}},
  };
}

}  // namespace

int Ctl::push() {
  const std::string sub = args_.words.size() > 1 ? args_.words[1] : "";
  const std::string name = args_.words.size() > 2 ? args_.words[2] : "";
  const Time now = now_seconds();
  // Only create and test fill a text; the others need no templates file.
  std::shared_ptr<const Templates> templates;
  if (sub == "create" || sub == "test") {
    std::string error;
    templates = Templates::load(config_.templates_path, config_.max_parts, &error);
    if (!templates) return usage(error);
  }
  Pushes pushes(*db_, config_, templates);

  if (sub == "create" && args_.words.size() == 3) {
    if (!has("template")) return usage("push create needs --template T (a push_ text)");
    if (!has("audience")) return usage("push create needs --audience EXPR");
    PushSpec spec;
    spec.name = name;
    spec.template_name = option("template");
    spec.audience = option("audience");
    for (const auto& [key, field] : {std::pair{"at", &spec.at}, {"until", &spec.until}}) {
      if (!has(key)) continue;
      std::string why;
      *field = typed_time(option(key), &why);
      if (!*field)
        return usage(fmt::format("--{} '{}' is not a time like 2026-12-24 or 2026-12-24 10:00 "
                                 "in {}{}",
                                 key, option(key), config_.time_zone,
                                 why.empty() ? "" : ": " + why));
    }
    if (has("holdout")) {
      const auto pct = whole_number(option("holdout"), true);
      if (!pct) return usage(fmt::format("--holdout '{}' is not a percentage", option("holdout")));
      spec.holdout_pct = *pct;
    }
    if (has("rate")) {
      spec.rate = whole_number(option("rate"), false);
      if (!spec.rate)
        return usage(fmt::format("--rate '{}' is not a number of messages a second",
                                 option("rate")));
    }
    const bool dry_run = has("dry-run");
    const auto c = pushes.create(spec, actor(), now, dry_run);
    using S = Pushes::Created::Status;
    switch (c.status) {
      case S::dry_run:
        fmt::print("push {}: {} members match the audience now (opted-out members excluded); "
                   "dry run: nothing created, nothing sent\n",
                   escape_text(name), c.audience);
        return kOk;
      case S::created:
        fmt::print("push {} created: {} members match the audience now; it starts {} ({})\n",
                   escape_text(name), c.audience,
                   spec.at && *spec.at > now ? format_local_time(config_.time_zone, *spec.at)
                                             : "now",
                   config_.time_zone);
        return kOk;
      case S::invalid:
        fmt::print(stderr,
                   "giftctl: {}\n(giftctl push create --help lists its options and the "
                   "audience expressions)\n",
                   escape_text(c.error));
        return kUsage;
      case S::exists:
        return refused(c.error.empty() ? fmt::format("a push named {} exists already", name)
                                       : c.error);
      case S::failed: break;
    }
    return refused(fmt::format("the database refused: {}", c.error));
  }

  if (sub == "list" && args_.words.size() == 2) {
    Format f;
    if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
    std::string error;
    const auto all = pushes.list(&error);
    if (!all) return refused(fmt::format("the database refused: {}", error));
    Table t;
    for (const char* c : {"name", "state", "template", "start", "until"}) t.add_column(c);
    for (const char* c : {"holdout_pct", "targeted", "held_out", "queued", "sent", "delivered",
                          "failed", "expired"})
      t.add_column(c, true);
    for (const auto& p : *all) {
      const auto& m = p.messages;
      t.rows.push_back({p.name, p.state + (p.paused ? " (paused)" : ""), p.template_name,
                        f == Format::table ? local(p.start_at, config_.time_zone) : p.start_at,
                        f == Format::table ? local(p.until_at, config_.time_zone) : p.until_at,
                        std::to_string(p.holdout_pct), std::to_string(p.targeted),
                        std::to_string(p.held_out), std::to_string(m.queued),
                        std::to_string(m.sent), std::to_string(m.delivered),
                        std::to_string(m.failed), std::to_string(m.expired)});
    }
    print(output(), t, f);
    return kOk;
  }

  if (sub == "show" && args_.words.size() == 3) {
    const std::string form = has("format") ? option("format") : "text";
    if (form != "text" && form != "table" && form != "csv" && form != "json")
      return usage("--format must be text, csv or json");
    PushInfo info;
    PushEffect effect;
    std::string error;
    for (const auto found : {pushes.show(name, info, &error), pushes.effect(name, effect, &error)})
      switch (found) {
        case Pushes::Found::found: break;
        case Pushes::Found::not_found: return refused(fmt::format("no push {}", name));
        case Pushes::Found::failed:
          return refused(fmt::format("the database refused: {}", error));
      }
    auto& out = output();
    if (form == "csv") print(out, flat_table(info, effect), Format::csv);
    // ASCII only (\u escapes): nothing stored reaches a terminal raw.
    else if (form == "json") out << json_object(info, effect).dump(2, ' ', true) << "\n";
    else print_text(out, info, effect, config_);
    return kOk;
  }

  if ((sub == "pause" || sub == "resume" || sub == "cancel") && args_.words.size() == 3) {
    const auto changed = sub == "pause"    ? pushes.pause(name, actor(), now)
                         : sub == "resume" ? pushes.resume(name, actor(), now)
                                           : pushes.cancel(name, actor(), now);
    using S = Pushes::Changed::Status;
    switch (changed.status) {
      case S::done:
        fmt::print("push {} {}\n", escape_text(name),
                   sub == "pause"    ? "paused: nothing more is queued; what is queued goes"
                   : sub == "resume" ? "resumed"
                                     : "cancelled: what had not gone is not sent");
        return kOk;
      case S::not_found: return refused(fmt::format("no push {}", name));
      case S::not_allowed:
        return refused(changed.error.empty()
                           ? fmt::format("push {} cannot be {}d in its state", name,
                                         sub == "cancel" ? "cancelle" : sub.substr(0, sub.size() - 1))
                           : changed.error);
      case S::failed: break;
    }
    return refused(fmt::format("the database refused: {}", changed.error));
  }

  if (sub == "test" && args_.words.size() >= 4) {
    std::vector<std::string> numbers;
    for (std::size_t i = 3; i < args_.words.size(); ++i) {
      const auto number = msisdn(args_.words[i]);
      if (!number) return usage(fmt::format("'{}' is not a phone number", args_.words[i]));
      numbers.push_back(*number);
    }
    const auto tested = pushes.test(name, numbers, actor(), now);
    using S = Pushes::Tested::Status;
    switch (tested.status) {
      case S::queued:
        for (std::size_t i = 0; i < numbers.size() && i < tested.texts.size(); ++i)
          fmt::print("{}: {}\n", numbers[i], escape_text(tested.texts[i]));
        fmt::print("{} test message(s) of push {} queued; giftgated sends them at once\n",
                   tested.texts.size(), escape_text(name));
        return kOk;
      case S::not_found: return refused(fmt::format("no push {}", name));
      case S::invalid: return usage(tested.error);
      case S::failed: break;
    }
    return refused(fmt::format("the database refused: {}", tested.error));
  }

  return usage(
      "push create NAME --template T --audience EXPR [--at TIME] [--until TIME] "
      "[--holdout PCT] [--rate N] [--dry-run] | push list | push show NAME | "
      "push pause|resume|cancel NAME | push test NAME MSISDN...");
}

std::optional<Table> Ctl::push_report(std::string* error) {
  // The dashboard's figure: one table for both, so they never disagree.
  return giftgate::push_report(*db_, config_, error);
}

}  // namespace giftgate::ctl
