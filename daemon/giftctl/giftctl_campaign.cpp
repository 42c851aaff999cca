// giftctl's campaign commands: imports, look-ups, points, stock, vouchers,
// lock-outs, reports and the redemptions export.
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <sstream>

#include <fmt/ostream.h>

#include "daemon/campaign/complaints.hpp"
#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/desk.hpp"
#include "daemon/giftctl/giftctl.hpp"
#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "protocol/charset.hpp"

namespace giftgate::ctl {

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
  Importer importer(*db_, config_, {"import", fmt::format("{} ({})", operator_, path), real_user_},
                    progress);
  const ImportResult r = kind == "members"     ? importer.members(text, path)
                         : kind == "merchants" ? importer.merchants(text, path)
                                               : importer.activity(text, path);
  if (bar && r.status != ImportResult::Status::ok) fmt::print(stderr, "\n");
  switch (r.status) {
    case ImportResult::Status::bad_input:
      fmt::print(stderr, "giftctl: {}\ngiftctl: nothing of {} was imported\n", escape_text(r.error),
                 escape_text(path));
      return kUsage;
    case ImportResult::Status::failed:
      return refused(fmt::format("{}; nothing of {} was imported", r.error, path));
    case ImportResult::Status::ok: break;
  }
  fmt::print("{}: {} rows, {} applied, {} already there", escape_text(path), r.rows, r.applied,
             r.skipped);
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
  db::Status found;
  const auto m = ledger.find_member(*number, &found);
  if (!found.ok()) return refused(fmt::format("the database refused: {}", found.message));
  if (!m) return refused(fmt::format("{} is not a member", *number));
  // Every section read before anything is printed: a listing cut short by
  // an error is reported as the error, not shown as the whole.
  std::string error;
  const std::pair<const char*, std::optional<Table>> sections[] = {
      {"points", member_ledger(*db_, m->id, &error)},
      {"vouchers", member_vouchers(*db_, m->id, &error)},
      {"offers", member_offers(*db_, m->id, &error)},
      {"history", member_events(*db_, m->id, &error)},
      {"texts received", member_texts(*db_, m->msisdn, &error)},
      {"messages sent", member_messages(*db_, m->msisdn, &error)},
      {"parts sent", member_parts(*db_, m->msisdn, &error)},
  };
  for (const auto& [title, table] : sections)
    if (!table) return refused(fmt::format("the database refused: {}", error));
  auto& out = output();
  const auto balance = ledger.balance(m->id);
  fmt::print(out, "member   {}\ncity     {}\nlanguage {}\ncare     {}\nbalance  {}\n",
             escape_text(m->msisdn), escape_text(m->city), escape_text(m->language),
             m->care_opt_out ? "opted out" : "receives",
             balance ? fmt::format("{} points", *balance) : escape_text(ledger.last_error()));
  for (const auto& [title, table] : sections) {
    fmt::print(out, "\n{} ({})\n", title, table->rows.size());
    if (!table->rows.empty()) print(out, *table, Format::table);
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
  std::string error;
  const auto facts = voucher_facts(*db_, code, &error);
  if (!facts) return refused(fmt::format("the database refused: {}", error));
  if (facts->rows.empty()) return refused(fmt::format("no voucher {}", code));
  const auto events = voucher_events(*db_, code, &error);
  if (!events) return refused(fmt::format("the database refused: {}", error));
  auto& out = output();
  for (std::size_t i = 0; i < facts->columns.size(); ++i)
    fmt::print(out, "{:<11}{}\n", facts->columns[i], escape_text(facts->rows[0][i]));
  fmt::print(out, "\ntimeline ({})\n", events->rows.size());
  print(out, *events, Format::table);
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

  db::Transaction tx(*db_);
  if (!tx.begun()) return refused(fmt::format("the database is busy: {}", tx.begun().message));
  // The desk's rule, as the console and the API apply it: the reason
  // checked, the bounds (campaign.max_points_change, max_balance) and a
  // balance of 0 or more with checked arithmetic. A correction needs no
  // templates and queues nothing, so its Service and Outbox are bare.
  Service service(*db_, config_, nullptr);
  Outbox outbox(*db_, ResendPolicy{});
  Desk desk(*db_, config_, service, outbox);
  switch (desk.correct_points(*number, delta, option("reason"), actor())) {
    case Ledger::Result::ok: break;
    case Ledger::Result::unknown_member: return refused(fmt::format("{} is not a member", *number));
    case Ledger::Result::out_of_bounds:
      return refused(fmt::format("{}; nothing changed", desk.last_error()));
    case Ledger::Result::invalid: return usage(desk.last_error());
    default: return refused(fmt::format("the database refused: {}", desk.last_error()));
  }
  if (const auto c = tx.commit(); !c.ok())
    return refused(fmt::format("the database refused: {}", c.message));
  // Committed: a balance that cannot be read now is said as such, not as a refusal.
  Ledger ledger(*db_);
  db::Status found;
  const auto m = ledger.find_member(*number, &found);
  const auto balance = m ? ledger.balance(m->id) : std::nullopt;
  fmt::print("{}: {:+} points, balance {}\n", *number, delta,
             balance ? std::to_string(*balance)
                     : fmt::format("not readable now ({})",
                                   m ? ledger.last_error() : found.message));
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
    const auto read = q.each_row(
        [&] { t.rows.push_back({q.column_text(0), q.column_text(1), q.column_text(2)}); });
    if (!read.ok()) return refused(fmt::format("the database refused: {}", read.message));
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
  const std::string city = smpp::ascii_lower(args_.words[2]);  // as imported
  if (!vouchers.set_stock(tier->name, city, n, actor()))
    return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  fmt::print("stock of tier {} in {}: {}\n", escape_text(tier->name), escape_text(city), n);
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
    default: return refused(fmt::format("nothing redeemed: {}", r.error));
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
    case AdminResult::over_limit:
      return refused(fmt::format("{}; nothing changed (--no-refund voids it without the points)",
                                 vouchers.last_error()));
    case AdminResult::failed: break;
  }
  return refused(fmt::format("the database refused: {}", vouchers.last_error()));
}

int Ctl::lockouts() {
  Format f;
  if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
  Vouchers vouchers(*db_, config_.campaign);
  Table t;
  for (const char* c : {"merchant", "reason", "since", "until"}) t.add_column(c);
  t.add_column("failures", true);
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  const auto locked = vouchers.lockouts(now);
  if (!locked) return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  for (const auto& l : *locked)
    t.rows.push_back({l.merchant_id, l.reason, l.since, l.until, std::to_string(l.failures)});
  print(output(), t, f);
  return kOk;
}

int Ctl::unlock() {
  if (args_.words.size() != 2) return usage("unlock needs a merchant id or one of its numbers");
  if (option("reason").empty()) return usage("unlock needs --reason TEXT");
  // A merchant's id as given, or a number in any form a person types it.
  std::string merchant = args_.words[1];
  if (const auto number = msisdn(args_.words[1])) {
    auto known = db_->prepare("SELECT 1 FROM merchants WHERE id = ?");
    switch (known.bind(1, merchant).step()) {
      case db::StepResult::row: break;
      case db::StepResult::done: merchant = *number; break;
      case db::StepResult::error:
        return refused(fmt::format("the database refused: {}", known.status().message));
    }
  }
  Vouchers vouchers(*db_, config_.campaign);
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  switch (vouchers.unlock(merchant, option("reason"), actor(), now)) {
    case AdminResult::ok: fmt::print("{} unlocked\n", args_.words[1]); return kOk;
    case AdminResult::wrong_state:
      return refused(fmt::format("{} is not a locked merchant", args_.words[1]));
    default: return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  }
}

// --- merchants -----------------------------------------------------------

int Ctl::merchant() {
  const std::string sub = args_.words.size() > 1 ? args_.words[1] : "";
  Vouchers vouchers(*db_, config_.campaign);
  if (sub == "list" && args_.words.size() == 2) {
    Format f;
    if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
    Table t;
    for (const char* c : {"id", "name", "city", "kind", "level", "state", "numbers", "offers"})
      t.add_column(c);
    const auto merchants = vouchers.all_merchants();
    if (!merchants) return refused(fmt::format("the database refused: {}", vouchers.last_error()));
    for (const auto& m : *merchants)
      t.rows.push_back({m.id, m.name, m.city, m.kind, m.level,
                        m.disabled ? "disabled" : "enabled",
                        fmt::format("{}", fmt::join(m.phones, " ")), offers_line(m.offers)});
    print(output(), t, f);
    return kOk;
  }
  if ((sub == "disable" || sub == "enable") && args_.words.size() == 3) {
    if (option("reason").empty()) return usage(fmt::format("merchant {} needs --reason TEXT", sub));
    const std::string& id = args_.words[2];
    switch (vouchers.set_merchant_disabled(id, sub == "disable", option("reason"), actor())) {
      case AdminResult::ok:
        fmt::print("merchant {} {}\n", escape_text(id),
                   sub == "disable" ? "disabled: its numbers verify nothing, members are not "
                                      "sent there"
                                    : "enabled");
        return kOk;
      case AdminResult::unknown_code: return refused(fmt::format("no merchant {}", id));
      case AdminResult::wrong_state:
        return refused(fmt::format("merchant {} is already {}d", id, sub));
      case AdminResult::invalid: return usage("a reason is needed");
      case AdminResult::over_limit:  // a refund's: never a merchant's
      case AdminResult::failed: break;
    }
    return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  }
  if (sub == "remove-number" && args_.words.size() == 4) {
    if (option("reason").empty()) return usage("merchant remove-number needs --reason TEXT");
    const std::string& id = args_.words[2];
    const auto number = msisdn(args_.words[3]);
    if (!number) return usage(fmt::format("'{}' is not a phone number", args_.words[3]));
    switch (vouchers.remove_merchant_number(id, *number, option("reason"), actor())) {
      case NumberRemoval::removed:
        fmt::print("{} is no longer a number of merchant {}\n", *number, escape_text(id));
        return kOk;
      case NumberRemoval::unknown_merchant: return refused(fmt::format("no merchant {}", id));
      case NumberRemoval::not_its_number:
        return refused(fmt::format("{} is not a number of merchant {}", *number, id));
      case NumberRemoval::last_number:
        return refused(fmt::format("{} is the only number of merchant {}: members are sent there "
                                   "to use their vouchers, so disable the merchant first "
                                   "(giftctl merchant disable {})",
                                   *number, id, id));
      case NumberRemoval::invalid: return usage("a reason is needed");
      case NumberRemoval::failed: break;
    }
    return refused(fmt::format("the database refused: {}", vouchers.last_error()));
  }
  return usage("merchant list | merchant disable|enable ID --reason TEXT | "
               "merchant remove-number ID MSISDN --reason TEXT");
}

// --- reports -------------------------------------------------------------

int Ctl::report() {
  if (args_.words.size() != 1) return usage("report takes options only (--by, --format)");
  Format f;
  if (!format(&f, Format::table))
    return usage("--format must be table, csv or json");
  std::vector<std::string> dims = {"tier", "city", "merchant", "day"};
  if (has("by")) dims = {option("by")};
  // Every table read before anything is printed: a report cut short by an
  // error is reported as the error, never printed as if it were whole.
  std::string error;
  const bool messages = dims.size() == 1 && dims[0] == "messages";
  std::optional<Table> message_table;
  if (messages || (!has("by") && f == Format::table)) {
    message_table = message_report(*db_, &error);
    if (!message_table) return refused(fmt::format("the database refused: {}", error));
  }
  // The pushes: their own table, as the messages are (other columns).
  const bool pushes = dims.size() == 1 && dims[0] == "pushes";
  std::optional<Table> push_table;
  if (pushes || (!has("by") && f == Format::table)) {
    push_table = push_report(&error);
    if (!push_table) return refused(fmt::format("the database refused: {}", error));
  }
  if (pushes) {
    print(output(), *push_table, f);
    return kOk;
  }
  // Complaints: per category, open, closed, and the median hours to close.
  const bool complaints = dims.size() == 1 && dims[0] == "complaints";
  std::optional<Table> complaint_table;
  if (complaints || (!has("by") && f == Format::table)) {
    complaint_table = Complaints(*db_).counts(&error);
    if (!complaint_table) return refused(fmt::format("the database refused: {}", error));
  }
  if (complaints) {
    print(output(), *complaint_table, f);
    return kOk;
  }
  std::vector<Table> tables;
  if (!messages)
    for (const auto& by : dims) {
      auto t = campaign_report(*db_, by, config_.time_zone, &error);
      if (!t && !error.empty()) return refused(fmt::format("the database refused: {}", error));
      if (!t)
        return usage(
            fmt::format("--by must be tier, city, merchant, day, messages, pushes or complaints, "
                        "not '{}'",
                        by));
      tables.push_back(std::move(*t));
    }
  auto& out = output();
  if (messages) {
    print(out, *message_table, f);
    return kOk;
  }
  Table all;  // for CSV and JSON: every grouping in one table, a column saying which
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto& by = dims[i];
    auto* t = &tables[i];
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
    print(out, *message_table, f);
    fmt::print(out, "\npushes\n");
    print(out, *push_table, f);
    fmt::print(out, "\ncomplaints\n");
    print(out, *complaint_table, f);
  }
  return kOk;
}

int Ctl::complaints() {
  if (args_.words.size() != 1) return usage("complaints takes options only (--state, --format)");
  Format f;
  if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
  const std::string state = has("state") ? option("state") : "open";
  if (state != "open" && state != "closed" && state != "all")
    return usage(fmt::format("--state must be open, closed or all, not '{}'", state));
  std::string error;
  const auto t = Complaints(*db_).list(
      state, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()), &error);
  if (!t) return refused(fmt::format("the database refused: {}", error));
  print(output(), *t, f);
  return kOk;
}

int Ctl::export_redemptions() {
  if (args_.words.size() != 2 || args_.words[1] != "redemptions")
    return usage("export knows one thing: export redemptions --since TIME");
  const std::string since_text = option("since");
  if (since_text.empty()) return usage("export redemptions needs --since TIME (e.g. 2026-10-01)");
  const auto since = typed_time(since_text);
  if (!since)
    return usage(fmt::format("--since '{}' is not a time like 2026-10-01 or 2026-10-01 08:00",
                             since_text));
  Format f;
  if (!format(&f, Format::csv)) return usage("--format must be table, csv or json");
  std::string error;
  const auto redemptions = redemptions_since(*db_, iso_time(*since), &error);
  if (!redemptions) return refused(fmt::format("the database refused: {}", error));
  print(output(), *redemptions, f);
  return kOk;
}

}  // namespace giftgate::ctl
