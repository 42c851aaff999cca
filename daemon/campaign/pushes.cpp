#include "daemon/campaign/pushes.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "daemon/campaign/audience.hpp"
#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/phone.hpp"

namespace giftgate {
namespace {

constexpr std::size_t kNameMax = 40;
// A push's selection looks at this many member ids per batch member: the
// range is cheap to scan, and an audience that matches one in ten still
// fills a batch.
constexpr std::int64_t kSelectSpanFactor = 10;

std::int64_t seconds_of(Time t) { return t.time_since_epoch().count(); }

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= kNameMax &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
}

db::Status ended(db::Database& db, std::int64_t push, const std::string& state,
                 const std::string& why, Time now) {
  auto expire = db.prepare(
      "UPDATE outbox SET state = 'expired', final_at = ?, last_error = ? "
      "WHERE push_id = ? AND state = 'queued'");
  if (auto s = expire.bind(1, iso_time(now)).bind(2, why).bind(3, push).run(); !s.ok()) return s;
  return db.prepare("UPDATE pushes SET state = ?, finished_at = ? WHERE id = ?")
      .bind(1, state)
      .bind(2, iso_time(now))
      .bind(3, push)
      .run();
}

// Inserts one message of priority bulk (push: its push, or none for a test,
// which goes as a reply).
db::Status queue_message(db::Database& db, const std::string& msisdn,
                         std::optional<std::int64_t> member_id, const std::string& message,
                         const std::string& language, const std::string& body,
                         std::optional<std::int64_t> push, Time now) {
  auto insert = db.prepare(
      "INSERT INTO outbox(msisdn, member_id, message, language, body, next_attempt_at, "
      "created_at, channel, priority, fair_at, push_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'sms', ?, ?, ?)");
  insert.bind(1, msisdn);
  if (member_id) insert.bind(2, *member_id);
  else insert.bind(2, std::nullopt);
  insert.bind(3, message).bind(4, language).bind(5, body).bind(6, iso_time(now)).bind(7, iso_time(now));
  insert.bind(8, push ? kPriorityBulk : kPriorityReply).bind(9, iso_time(now));
  if (push) insert.bind(10, *push);
  else insert.bind(10, std::nullopt);
  return insert.run();
}

}  // namespace

std::optional<double> PushEffect::lift(std::size_t window) const {
  if (holdout.members == 0 || sent.members == 0 || window >= kDays.size()) return std::nullopt;
  const double a = 100.0 * static_cast<double>(sent.redeemed[window]) / static_cast<double>(sent.members);
  const double b =
      100.0 * static_cast<double>(holdout.redeemed[window]) / static_cast<double>(holdout.members);
  return a - b;
}

std::optional<TemplateValues> push_values(db::Database& db, const CampaignConfig& config,
                                          const Templates& templates, std::int64_t member_id,
                                          const std::string& city, const std::string& language,
                                          Time now, std::string* error) {
  auto sum = db.prepare("SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE member_id = ?");
  sum.bind(1, member_id);
  if (sum.step() != db::StepResult::row) {
    *error = sum.status().message;
    return std::nullopt;
  }
  const std::int64_t balance = sum.column_int(0);
  // The dearest tier the balance affords, else the cheapest and what it lacks.
  const Tier* best = nullptr;
  const Tier* cheapest = nullptr;
  for (const auto& t : config.campaign.tiers) {
    if (!cheapest || t.price < cheapest->price) cheapest = &t;
    if (t.price <= balance && (!best || t.price > best->price)) best = &t;
  }
  const Tier* shown = best ? best : cheapest;
  auto vouchers = db.prepare(
      "SELECT COUNT(*), MIN(expires_at) FROM vouchers WHERE member_id = ? AND state = 'issued' "
      "AND expires_at > ?");
  vouchers.bind(1, member_id).bind(2, iso_time(now));
  if (vouchers.step() != db::StepResult::row) {
    *error = vouchers.status().message;
    return std::nullopt;
  }
  std::string expires;
  if (!vouchers.column_null(1))
    if (const auto t = parse_iso_time(vouchers.column_text(1)))
      expires = format_local_time(config.time_zone, *t);
  TemplateValues v = {{"balance", std::to_string(balance)},
                      {"city", templates.name_of("city", city, language)},
                      {"count", std::to_string(vouchers.column_int(0))},
                      {"expires", expires}};
  v.emplace_back("tier", shown ? shown->name : "");
  v.emplace_back("value", shown ? std::to_string(shown->face_value) : "");
  v.emplace_back("price", shown ? std::to_string(shown->price) : "");
  v.emplace_back("short", shown && !best ? std::to_string(shown->price - balance) : "0");
  return v;
}

Pushes::Pushes(db::Database& db, const CampaignConfig& config,
               std::shared_ptr<const Templates> templates)
    : db_(db), config_(config), templates_(std::move(templates)) {}

Pushes::Created Pushes::create(const PushSpec& spec, const Actor& actor, Time now, bool dry_run) {
  Created out;
  const auto invalid = [&](std::string why) {
    out.status = Created::Status::invalid;
    out.error = std::move(why);
    return out;
  };
  if (!valid_name(spec.name))
    return invalid(fmt::format("a push's name is 1 to {} of a-z, 0-9, '-' and '_', not '{}'",
                               kNameMax, spec.name));
  if (!spec.template_name.starts_with("push_") || !templates_->has(spec.template_name)) {
    const auto names = templates_->names_starting("push_");
    return invalid(fmt::format("no push text '{}' in the messages file (it has: {})",
                               spec.template_name,
                               names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
  }
  if (spec.holdout_pct < 0 || spec.holdout_pct > 90)
    return invalid(fmt::format("the holdout is 0 to 90 percent, not {}", spec.holdout_pct));
  if (spec.rate && (*spec.rate < 1 || *spec.rate > 100000))
    return invalid(fmt::format("the rate is 1 to 100000 messages a second, not {}", *spec.rate));
  const Time start = spec.at.value_or(now);
  if (spec.until && *spec.until <= std::max(start, now))
    return invalid("--until must be after the start and after now");
  std::string why;
  const auto audience =
      parse_audience(spec.audience, AudienceContext{config_.campaign, config_.time_zone, now}, &why);
  if (!audience) return invalid(fmt::format("audience: {}", why));

  auto count = db_.prepare(
      fmt::format("SELECT COUNT(*) FROM members m WHERE m.care_opt_out = 0 AND ({})", audience->where));
  audience->bind(count, 1);
  if (count.step() != db::StepResult::row) {
    out.error = count.status().message;
    return out;
  }
  out.audience = count.column_int(0);
  count.reset();
  if (dry_run) {
    out.status = Created::Status::dry_run;
    return out;
  }
  db::Transaction tx(db_);
  if (!tx.begun().ok()) {
    out.error = tx.begun().message;
    return out;
  }
  auto insert = db_.prepare(
      "INSERT INTO pushes(name, template, audience, start_at, until_at, holdout_pct, rate, "
      "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, spec.name).bind(2, spec.template_name).bind(3, audience->text)
      .bind(4, iso_time(start))
      .bind(5, spec.until ? std::optional<std::string>(iso_time(*spec.until)) : std::nullopt)
      .bind(6, std::int64_t{spec.holdout_pct});
  if (spec.rate) insert.bind(7, std::int64_t{*spec.rate});
  else insert.bind(7, std::nullopt);
  insert.bind(8, iso_time(now)).bind(9, actor.who);
  if (auto s = insert.run(); !s.ok()) {
    out.status = s.constraint() ? Created::Status::exists : Created::Status::failed;
    out.error = s.constraint() ? fmt::format("a push named '{}' exists", spec.name) : s.message;
    return out;
  }
  out.id = db_.last_insert_id();
  auto s = record_event(db_, "push_created", std::nullopt, actor,
                        fmt::format("push {} template {} audience {} ({} members) holdout {}%",
                                    spec.name, spec.template_name, audience->text, out.audience,
                                    spec.holdout_pct));
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    out.error = s.message;
    return out;
  }
  out.status = Created::Status::created;
  return out;
}

namespace {

constexpr const char* kInfoColumns =
    "id, name, template, audience, state, paused, start_at, COALESCE(until_at, ''), "
    "created_at, created_by, COALESCE(started_at, ''), COALESCE(finished_at, ''), holdout_pct, "
    "rate, targeted, held_out";

PushInfo read_info(const db::Statement& st) {
  PushInfo p;
  p.id = st.column_int(0);
  p.name = st.column_text(1);
  p.template_name = st.column_text(2);
  p.audience = st.column_text(3);
  p.state = st.column_text(4);
  p.paused = st.column_int(5) != 0;
  p.start_at = st.column_text(6);
  p.until_at = st.column_text(7);
  p.created_at = st.column_text(8);
  p.created_by = st.column_text(9);
  p.started_at = st.column_text(10);
  p.finished_at = st.column_text(11);
  p.holdout_pct = static_cast<int>(st.column_int(12));
  if (!st.column_null(13)) p.rate = static_cast<int>(st.column_int(13));
  p.targeted = st.column_int(14);
  p.held_out = st.column_int(15);
  return p;
}

db::Status read_messages(db::Database& db, std::int64_t push, PushMessages& m) {
  auto st = db.prepare("SELECT what, n FROM push_counts WHERE push_id = ?");
  st.bind(1, push);
  return st.each_row([&] {
    const std::string what = st.column_text(0);
    const std::int64_t n = st.column_int(1);
    if (what == "queued") m.queued = n;
    else if (what == "submitted") m.submitted = n;
    else if (what == "delivered") m.delivered = n;
    else if (what == "failed") m.failed = n;
    else if (what == "expired") m.expired = n;
    else if (what == "sent") m.sent = n;
  });
}

}  // namespace

std::optional<std::vector<PushInfo>> Pushes::list(std::string* error) {
  std::vector<PushInfo> out;
  auto st = db_.prepare(fmt::format("SELECT {} FROM pushes ORDER BY id DESC", kInfoColumns));
  if (auto s = st.each_row([&] { out.push_back(read_info(st)); }); !s.ok()) {
    *error = s.message;
    return std::nullopt;
  }
  for (auto& p : out)
    if (auto s = read_messages(db_, p.id, p.messages); !s.ok()) {
      *error = s.message;
      return std::nullopt;
    }
  return out;
}

Pushes::Found Pushes::show(const std::string& name, PushInfo& info, std::string* error) {
  auto st = db_.prepare(fmt::format("SELECT {} FROM pushes WHERE name = ?", kInfoColumns));
  st.bind(1, name);
  switch (st.step()) {
    case db::StepResult::row: info = read_info(st); break;
    case db::StepResult::done: return Found::not_found;
    case db::StepResult::error: *error = st.status().message; return Found::failed;
  }
  auto by_state = db_.prepare("SELECT state, COUNT(*) FROM push_recipients WHERE push_id = ? GROUP BY state");
  by_state.bind(1, info.id);
  const bool over = info.state == "expired" || info.state == "cancelled";
  auto s = by_state.each_row([&] {
    std::string state = by_state.column_text(0);
    // The members whose turn a push that ended never gave.
    if (over && state == "pending") state = info.state;
    info.recipients[state] += by_state.column_int(1);
  });
  if (s.ok()) s = read_messages(db_, info.id, info.messages);
  if (!s.ok()) {
    *error = s.message;
    return Found::failed;
  }
  return Found::found;
}

Pushes::Found Pushes::effect(const std::string& name, PushEffect& effect, std::string* error) {
  auto id = db_.prepare("SELECT id FROM pushes WHERE name = ?");
  id.bind(1, name);
  switch (id.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return Found::not_found;
    case db::StepResult::error: *error = id.status().message; return Found::failed;
  }
  const std::int64_t push = id.column_int(0);
  // A voucher issued to the member within d days of their turn.
  const auto within = [](int days) {
    return fmt::format(
        "EXISTS (SELECT 1 FROM vouchers v WHERE v.member_id = r.member_id AND "
        "v.issued_at >= strftime('%Y-%m-%dT%H:%M:%SZ', r.at, 'unixepoch') AND "
        "v.issued_at < strftime('%Y-%m-%dT%H:%M:%SZ', r.at + {}, 'unixepoch'))",
        days * 86400);
  };
  auto st = db_.prepare(fmt::format(
      "SELECT r.state, COUNT(*), SUM({}), SUM({}), SUM({}), "
      "SUM(r.state = 'queued' AND EXISTS (SELECT 1 FROM events e WHERE e.member_id = r.member_id "
      "AND e.kind = 'care_opt_out' AND e.at >= strftime('%Y-%m-%dT%H:%M:%SZ', r.at, 'unixepoch'))) "
      "FROM push_recipients r WHERE r.push_id = ? AND r.at IS NOT NULL "
      "AND (r.state = 'queued' OR r.state = 'holdout') GROUP BY r.state",
      within(PushEffect::kDays[0]), within(PushEffect::kDays[1]), within(PushEffect::kDays[2])));
  st.bind(1, push);
  effect = {};
  if (auto s = st.each_row([&] {
        auto& g = st.column_text(0) == "queued" ? effect.sent : effect.holdout;
        g.members = st.column_int(1);
        for (std::size_t i = 0; i < PushEffect::kDays.size(); ++i)
          g.redeemed[i] = st.column_int(static_cast<int>(i) + 2);
        effect.opted_out_since += st.column_int(5);
      });
      !s.ok()) {
    *error = s.message;
    return Found::failed;
  }
  return Found::found;
}

Pushes::Changed Pushes::pause(const std::string& name, const Actor& actor, Time) {
  return set_paused(name, true, actor);
}

Pushes::Changed Pushes::resume(const std::string& name, const Actor& actor, Time) {
  return set_paused(name, false, actor);
}

Pushes::Changed Pushes::set_paused(const std::string& name, bool paused, const Actor& actor) {
  Changed out;
  db::Transaction tx(db_);
  auto st = db_.prepare(
      "UPDATE pushes SET paused = ? WHERE name = ? AND paused = ? AND "
      "(state = 'scheduled' OR state = 'selecting' OR state = 'sending')");
  auto s = tx.begun().ok() ? st.bind(1, std::int64_t{paused}).bind(2, name).bind(3, std::int64_t{!paused}).run()
                           : tx.begun();
  const bool changed = s.ok() && db_.changes() == 1;
  if (changed) s = record_event(db_, paused ? "push_paused" : "push_resumed", std::nullopt, actor, name);
  if (changed && s.ok()) s = tx.commit();
  if (!s.ok()) {
    out.error = s.message;
    return out;
  }
  if (changed) {
    out.status = Changed::Status::done;
    return out;
  }
  PushInfo info;
  std::string error;
  if (show(name, info, &error) == Found::not_found) {
    out.status = Changed::Status::not_found;
  } else {
    out.status = Changed::Status::not_allowed;
    out.error = fmt::format("push {} is {}{}", name, info.state,
                            info.paused ? ", paused" : (paused ? "" : ", not paused"));
  }
  return out;
}

Pushes::Changed Pushes::cancel(const std::string& name, const Actor& actor, Time now) {
  Changed out;
  auto find = db_.prepare("SELECT id, state FROM pushes WHERE name = ?");
  find.bind(1, name);
  switch (find.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: out.status = Changed::Status::not_found; return out;
    case db::StepResult::error: out.error = find.status().message; return out;
  }
  const std::int64_t push = find.column_int(0);
  const std::string state = find.column_text(1);
  find.reset();
  if (state != "scheduled" && state != "selecting" && state != "sending") {
    out.status = Changed::Status::not_allowed;
    out.error = fmt::format("push {} is {} already", name, state);
    return out;
  }
  db::Transaction tx(db_);
  auto s = tx.begun();
  if (s.ok()) s = ended(db_, push, "cancelled", "the push was cancelled", now);
  if (s.ok()) s = record_event(db_, "push_cancelled", std::nullopt, actor, name);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    out.error = s.message;
    return out;
  }
  credit_.erase(push);
  out.status = Changed::Status::done;
  return out;
}

Pushes::Tested Pushes::test(const std::string& name, const std::vector<std::string>& msisdns,
                            const Actor& actor, Time now) {
  Tested out;
  auto find = db_.prepare("SELECT template FROM pushes WHERE name = ?");
  find.bind(1, name);
  switch (find.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: out.status = Tested::Status::not_found; return out;
    case db::StepResult::error: out.error = find.status().message; return out;
  }
  const std::string message = find.column_text(0);
  find.reset();
  if (!templates_->has(message)) {
    out.status = Tested::Status::invalid;
    out.error = fmt::format("the messages file no longer has '{}'", message);
    return out;
  }
  std::vector<std::string> numbers;
  for (const auto& given : msisdns) {
    const auto n = normalize_msisdn(given, config_.default_country);
    if (!n) {
      out.status = Tested::Status::invalid;
      out.error = fmt::format("'{}' is no phone number", given);
      return out;
    }
    numbers.push_back(*n);
  }
  db::Transaction tx(db_);
  auto s = tx.begun();
  for (const auto& msisdn : numbers) {
    if (!s.ok()) break;
    auto member = db_.prepare("SELECT id, city, language FROM members WHERE msisdn = ?");
    member.bind(1, msisdn);
    std::optional<std::int64_t> id;
    std::string city, language = "zh";
    switch (member.step()) {
      case db::StepResult::row:
        id = member.column_int(0);
        city = member.column_text(1);
        language = member.column_text(2);
        break;
      case db::StepResult::done: break;
      case db::StepResult::error: s = member.status(); continue;
    }
    member.reset();
    TemplateValues values;
    if (id) {
      std::string error;
      auto v = push_values(db_, config_, *templates_, *id, city, language, now, &error);
      if (!v) {
        s = {1, error};
        continue;
      }
      values = std::move(*v);
    } else {  // a staff number that is no member: as a member with no points reads it
      const Tier* cheapest = nullptr;
      for (const auto& t : config_.campaign.tiers)
        if (!cheapest || t.price < cheapest->price) cheapest = &t;
      values = {{"balance", "0"},
                {"city", "-"},
                {"count", "0"},
                {"expires", "-"},
                {"tier", cheapest ? cheapest->name : "-"},
                {"value", cheapest ? std::to_string(cheapest->face_value) : "-"},
                {"price", cheapest ? std::to_string(cheapest->price) : "-"},
                {"short", cheapest ? std::to_string(cheapest->price) : "0"}};
    }
    const std::string body = templates_->render(message, language, values);
    s = queue_message(db_, msisdn, id, message, language, body, std::nullopt, now);
    if (s.ok())
      s = record_event(db_, "push_tested", id, actor,
                       fmt::format("push {} to {}", name, mask_msisdn(msisdn)));
    out.texts.push_back(body);
  }
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    out.texts.clear();
    out.error = s.message;
    return out;
  }
  out.status = Tested::Status::queued;
  return out;
}

db::Status Pushes::member_opted_out(db::Database& db, std::int64_t member_id, Time now) {
  return db.prepare(
               "UPDATE outbox SET state = 'expired', final_at = ?, last_error = 'the member opted out' "
               "WHERE member_id = ? AND push_id IS NOT NULL AND state = 'queued'")
      .bind(1, iso_time(now))
      .bind(2, member_id)
      .run();
}

std::optional<std::vector<std::pair<std::string, PushMessages>>> Pushes::live() {
  std::vector<std::pair<std::int64_t, std::string>> pushes;
  // The pushes under way, and those that ended within a day (their last
  // messages may still await receipts).
  auto st = db_.prepare(
      "SELECT id, name FROM pushes WHERE finished_at IS NULL OR "
      "finished_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day') ORDER BY id");
  if (!st.each_row([&] { pushes.emplace_back(st.column_int(0), st.column_text(1)); }).ok())
    return std::nullopt;
  std::vector<std::pair<std::string, PushMessages>> out;
  for (const auto& [id, name] : pushes) {
    PushMessages m;
    if (!read_messages(db_, id, m).ok()) return std::nullopt;
    out.emplace_back(name, m);
  }
  return out;
}

Pushes::Step Pushes::step(Time now, std::chrono::milliseconds elapsed, std::size_t limit) {
  Step out;
  // A push as step() reads it: its settings and how far it has gone.
  struct Row : PushInfo {
    std::int64_t select_cursor = 0, feed_cursor = 0;
  };
  std::vector<Row> rows;
  auto st = db_.prepare(fmt::format(
      "SELECT {}, select_cursor, feed_cursor FROM pushes "
      "WHERE state = 'scheduled' OR state = 'selecting' OR state = 'sending' ORDER BY id",
      kInfoColumns));
  out.status = st.each_row([&] {
    Row r;
    static_cast<PushInfo&>(r) = read_info(st);
    r.select_cursor = st.column_int(16);
    r.feed_cursor = st.column_int(17);
    rows.push_back(std::move(r));
  });
  if (!out.status.ok()) return out;
  const std::string now_iso = iso_time(now);
  const bool quiet = config_.pushes.quiet.contains(local_minute_of_day(config_.time_zone, now));
  const auto batch = static_cast<std::int64_t>(
      limit > 0 ? std::min<std::size_t>(limit, static_cast<std::size_t>(config_.pushes.batch))
                : static_cast<std::size_t>(config_.pushes.batch));
  for (auto& r : rows) {
    // --until: what is left expires, paused or not.
    if (!r.until_at.empty() && now_iso >= r.until_at) {
      db::Transaction tx(db_);
      out.status = tx.begun();
      if (out.status.ok()) out.status = ended(db_, r.id, "expired", "the push ended (--until)", now);
      if (out.status.ok()) out.status = tx.commit();
      if (!out.status.ok()) return out;
      credit_.erase(r.id);
      out.finished.push_back(r.name);
      continue;
    }
    if (r.paused) continue;
    if (r.state == "scheduled") {
      if (now_iso < r.start_at) continue;
      out.status = db_.prepare("UPDATE pushes SET state = 'selecting', started_at = ? WHERE id = ?")
                       .bind(1, now_iso)
                       .bind(2, r.id)
                       .run();
      if (!out.status.ok()) return out;
      r.state = "selecting";
      out.started.push_back(r.name);
    }
    if (r.state == "selecting") {
      std::string why;
      const auto audience = parse_audience(
          r.audience, AudienceContext{config_.campaign, config_.time_zone, now}, &why);
      if (!audience) {  // it parsed at create: only a tier since removed can do this
        out.status = {1, fmt::format("push {}: audience: {}", r.name, why)};
        return out;
      }
      const std::int64_t last = db_.first_int("SELECT COALESCE(MAX(id), 0) FROM members", &out.status)
                                    .value_or(-1);
      if (last < 0) return out;
      const std::int64_t to = std::min(last, r.select_cursor + batch * kSelectSpanFactor);
      db::Transaction tx(db_);
      out.status = tx.begun();
      if (!out.status.ok()) return out;
      // Held out: a fixed share by a hash of member and push, the same
      // after any restart.
      auto insert = db_.prepare(fmt::format(
          "INSERT INTO push_recipients(push_id, member_id, state) "
          "SELECT ?, m.id, CASE WHEN ((m.id * 2654435761 + ? * 40503) % 1000003) % 100 < ? "
          "THEN 'holdout' ELSE 'pending' END FROM members m "
          "WHERE m.id > ? AND m.id <= ? AND m.care_opt_out = 0 AND ({})",
          audience->where));
      insert.bind(1, r.id).bind(2, r.id).bind(3, std::int64_t{r.holdout_pct}).bind(4, r.select_cursor)
          .bind(5, to);
      audience->bind(insert, 6);
      out.status = insert.run();
      const int selected = db_.changes();
      if (out.status.ok())
        out.status =
            db_.prepare(
                   "UPDATE pushes SET select_cursor = ?, targeted = targeted + ?, held_out = held_out + "
                   "(SELECT COUNT(*) FROM push_recipients WHERE push_id = ? AND member_id > ? AND "
                   "member_id <= ? AND state = 'holdout'), state = ? WHERE id = ?")
                .bind(1, to)
                .bind(2, std::int64_t{selected})
                .bind(3, r.id)
                .bind(4, r.select_cursor)
                .bind(5, to)
                .bind(6, to >= last ? "sending" : "selecting")
                .bind(7, r.id)
                .run();
      if (out.status.ok()) out.status = tx.commit();
      if (!out.status.ok()) return out;
      out.selected += selected;
      if (to < last) out.more = true;
      continue;  // sending starts with the next step
    }
    // Sending: within the rate, the room in the outbox, outside quiet hours.
    if (quiet) continue;
    const int rate = r.rate.value_or(config_.pushes.rate);
    std::int64_t n = batch;
    if (rate > 0) {
      double& credit = credit_[r.id];
      credit = std::min(credit + rate * (static_cast<double>(elapsed.count()) / 1000.0),
                        static_cast<double>(std::max(1, rate)));
      n = std::min<std::int64_t>(n, static_cast<std::int64_t>(std::floor(credit)));
    }
    PushMessages waiting;
    out.status = read_messages(db_, r.id, waiting);
    if (!out.status.ok()) return out;
    n = std::min<std::int64_t>(n, config_.pushes.max_queued - waiting.queued);
    out.more = true;  // a push is sending: as soon as the credit or the room allows
    if (n <= 0) continue;
    if (!templates_->has(r.template_name)) {
      out.status = {1, fmt::format("push {}: the messages file no longer has '{}'", r.name,
                                   r.template_name)};
      return out;
    }
    db::Transaction tx(db_);
    out.status = tx.begun();
    if (!out.status.ok()) return out;
    struct Turn {
      std::int64_t member;
      std::string state, msisdn, language, city;
      bool opted_out;
      std::optional<std::int64_t> last_push;
    };
    std::vector<Turn> turns;
    auto next = db_.prepare(
        "SELECT r.member_id, r.state, m.msisdn, m.language, m.city, m.care_opt_out, m.last_push_at "
        "FROM push_recipients r JOIN members m ON m.id = r.member_id "
        "WHERE r.push_id = ? AND r.member_id > ? ORDER BY r.member_id LIMIT ?");
    next.bind(1, r.id).bind(2, r.feed_cursor).bind(3, n);
    out.status = next.each_row([&] {
      Turn t{next.column_int(0), next.column_text(1), next.column_text(2), next.column_text(3),
             next.column_text(4), next.column_int(5) != 0, std::nullopt};
      if (!next.column_null(6)) t.last_push = next.column_int(6);
      turns.push_back(std::move(t));
    });
    if (!out.status.ok()) return out;
    const std::int64_t at = seconds_of(now);
    const std::int64_t interval = std::int64_t{config_.pushes.member_interval_hours} * 3600;
    int queued = 0;
    for (const auto& t : turns) {
      std::string state = t.state == "holdout" ? "holdout" : "queued";
      if (state == "queued" && t.opted_out) state = "opted_out";
      else if (state == "queued" && interval > 0 && t.last_push && *t.last_push > at - interval)
        state = "too_soon";
      std::optional<std::int64_t> outbox_id;
      if (state == "queued") {
        std::string error;
        const auto values =
            push_values(db_, config_, *templates_, t.member, t.city, t.language, now, &error);
        if (!values) {
          out.status = {1, error};
          return out;
        }
        const std::string body = templates_->render(r.template_name, t.language, *values);
        out.status = queue_message(db_, t.msisdn, t.member, r.template_name, t.language, body, r.id, now);
        if (!out.status.ok()) return out;
        outbox_id = db_.last_insert_id();
        out.status = db_.prepare("UPDATE members SET last_push_at = ? WHERE id = ?")
                         .bind(1, at)
                         .bind(2, t.member)
                         .run();
        if (!out.status.ok()) return out;
        ++queued;
      } else if (state != "holdout") {
        ++out.skipped;
      }
      auto mark = db_.prepare(
          "UPDATE push_recipients SET state = ?, at = ?, outbox_id = ? WHERE push_id = ? AND member_id = ?");
      mark.bind(1, state).bind(2, at);
      if (outbox_id) mark.bind(3, *outbox_id);
      else mark.bind(3, std::nullopt);
      out.status = mark.bind(4, r.id).bind(5, t.member).run();
      if (!out.status.ok()) return out;
    }
    const bool all = static_cast<std::int64_t>(turns.size()) < n;
    auto cursor = db_.prepare(
        "UPDATE pushes SET feed_cursor = ?, state = ?, finished_at = ? WHERE id = ?");
    cursor.bind(1, turns.empty() ? r.feed_cursor : turns.back().member)
        .bind(2, all ? "done" : "sending");
    if (all) cursor.bind(3, now_iso);
    else cursor.bind(3, std::nullopt);
    out.status = cursor.bind(4, r.id).run();
    if (out.status.ok()) out.status = tx.commit();
    if (!out.status.ok()) return out;
    if (rate > 0) credit_[r.id] -= queued;
    out.queued += queued;
    if (all) {
      credit_.erase(r.id);
      out.finished.push_back(r.name);
    }
  }
  return out;
}

}  // namespace giftgate
