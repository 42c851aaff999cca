// USSD sessions: the menus of templates/menus.yaml walked one step per MO.
// A session's place (state, tier, page) is a row, changed in the same
// transaction as the step's effects and its screen, so a step is done
// wholly or not at all, and a redemption happens only on the confirm step,
// answered on its own (a shortcut's choices stop at the confirm screen).
//
//   main --1--> balance (end)      main --2--> pick_tier --n--> confirm
//   main --3--> vouchers (end)       confirm --1--> redeemed (end), --2--> cancelled (end)
//   main --4--> merchants --9--> next page ... last page (end)
//   main --5--> help (end)         0 goes back to main; anything else: invalid + the same screen
#include <algorithm>

#include <fmt/format.h>

#include "daemon/campaign/keywords.hpp"
#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/limits.hpp"
#include "daemon/campaign/service.hpp"

namespace giftgate {

struct Service::UssdSession {
  std::int64_t id = 0;
  std::string language = "zh";
  std::string state = "main";
  std::string tier;
  std::int64_t page = 0;
};

struct Service::Screen {
  std::string name;  // the screen's entry in the menus file
  std::string text;
  bool end = false;
};

namespace {

// The choices a shortcut carries: *12580*2*1# with service code *12580#
// gives {"2", "1"}; anything else, none.
std::vector<std::string> shortcut_choices(const std::string& dialled, const std::string& code) {
  auto digits = [](std::string s) {
    if (!s.empty() && s.front() == '*') s.erase(0, 1);
    if (!s.empty() && s.back() == '#') s.pop_back();
    return s;
  };
  const std::string want = digits(code);
  std::string got = digits(fold_keyword_text(dialled));
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t star; (star = got.find('*', start)) != std::string::npos; start = star + 1)
    parts.push_back(got.substr(start, star - start));
  parts.push_back(got.substr(start));
  if (parts.empty() || parts.front() != want) return {};
  parts.erase(parts.begin());
  return parts;
}

}  // namespace

Service::Screen Service::ussd_merchants_page(UssdSession& session, const Member& member,
                                             std::string& error) {
  const auto& screens = *menus_->screens;
  const auto merchants = vouchers_.merchants_in(member.city);
  if (!merchants) {  // never "no merchants" for a list that could not be read
    error = vouchers_.last_error().empty() ? "merchants not read" : vouchers_.last_error();
    return {};
  }
  std::vector<std::string> lines;
  for (const auto& m : *merchants)
    lines.push_back(screens.render("merchant_line", session.language,
                                   {{"name", m.name},
                                    {"kind", templates_->name_of("kind", m.kind, session.language)}}));
  const std::string city = templates_->name_of("city", member.city, session.language);
  if (lines.empty())
    return {"no_merchants", screens.render("no_merchants", session.language, {{"city", city}}),
            true};
  const auto first = std::min<std::size_t>(static_cast<std::size_t>(session.page), lines.size() - 1);
  std::size_t next = 0;
  const std::string text = menus_->page("merchants", session.language, {{"city", city}},
                                        "merchants", lines, first, &next);
  session.state = "merchants";
  session.page = static_cast<std::int64_t>(next);
  return {"merchants", text, next >= lines.size()};
}

Service::Screen Service::ussd_step(UssdSession& session, const std::string& input,
                                   const Member& member, const UssdMo& mo, std::int64_t inbox_id,
                                   std::vector<Reply>& sms, std::string& error) {
  const auto& screens = *menus_->screens;
  const std::string& lang = session.language;
  auto final_screen = [&](const std::string& name, const TemplateValues& values = {}) {
    return Screen{name, screens.render(name, lang, values), true};
  };
  auto main_menu = [&]() {
    session.state = "main";
    session.tier.clear();
    session.page = 0;
    return Screen{"main", screens.render("main", lang, {}), false};
  };
  auto pick_tier = [&]() {
    std::string choices;
    int n = 0;
    for (const auto& t : config_.campaign.tiers)
      choices += (choices.empty() ? "" : "\n") +
                 screens.render("tier_choice", lang,
                                {{"n", std::to_string(++n)},
                                 {"tier", t.name},
                                 {"value", std::to_string(t.face_value)},
                                 {"price", std::to_string(t.price)}});
    session.state = "pick_tier";
    return Screen{"pick_tier", screens.render("pick_tier", lang, {{"choices", choices}}), false};
  };
  auto confirm = [&](const Tier& t) {
    session.state = "confirm";
    session.tier = t.name;
    Ledger ledger(db_);
    const auto balance = ledger.balance(member.id);
    if (!balance) error = ledger.last_error();  // the step fails: never "0 points"
    return Screen{"confirm",
                  screens.render("confirm", lang,
                                 {{"tier", t.name},
                                  {"value", std::to_string(t.face_value)},
                                  {"price", std::to_string(t.price)},
                                  {"balance", std::to_string(balance.value_or(0))}}),
                  false};
  };
  auto again = [&](Screen shown) {  // a choice the screen does not have
    const std::string text = screens.render("invalid", lang, {}) + "\n" + shown.text;
    if (ussd_too_long(text, menus_->limits).empty()) shown.text = text;
    return shown;
  };
  const Actor actor{"ussd", fmt::format("mo {}", inbox_id)};

  if (session.state == "main") {
    if (input == "1") {
      Ledger ledger(db_);
      std::string tiers;
      for (const auto& t : config_.campaign.tiers)
        tiers += (tiers.empty() ? "" : "\n") +
                 screens.render("tier_line", lang,
                                {{"tier", t.name},
                                 {"value", std::to_string(t.face_value)},
                                 {"price", std::to_string(t.price)}});
      const auto balance = ledger.balance(member.id);
      if (!balance) error = ledger.last_error();  // the step fails: never "0 points"
      return final_screen("balance",
                          {{"balance", std::to_string(balance.value_or(0))}, {"tiers", tiers}});
    }
    if (input == "2") return pick_tier();
    if (input == "3") {
      // The codes go by SMS: a USSD screen is gone once read.
      const auto listed = voucher_lines(member.id, lang, mo.now, error);
      if (!listed) return {};
      const auto& lines = *listed;
      if (lines.empty()) return final_screen("no_vouchers");
      sms.push_back({member.msisdn, member.id, "my_vouchers", lang,
                     fit_list("my_vouchers", lang, {{"count", std::to_string(lines.size())}},
                              "vouchers", lines, voucher_pages(1)),
                     std::nullopt, std::nullopt, std::nullopt});
      return final_screen("vouchers_sent", {{"count", std::to_string(lines.size())}});
    }
    if (input == "4") {
      session.page = 0;
      return ussd_merchants_page(session, member, error);
    }
    if (input == "5") return final_screen("help");
    return again(main_menu());
  }

  if (session.state == "pick_tier") {
    if (input == "0") return main_menu();
    const auto& tiers = config_.campaign.tiers;
    for (std::size_t i = 0; i < tiers.size(); ++i)
      if (input == std::to_string(i + 1)) return confirm(tiers[i]);
    return again(pick_tier());
  }

  if (session.state == "confirm") {
    const Tier* tier = nullptr;
    for (const auto& t : config_.campaign.tiers)
      if (t.name == session.tier) tier = &t;
    if (!tier) return again(pick_tier());
    if (input == "2") return final_screen("cancelled");
    if (input == "0") return pick_tier();
    if (input != "1") return again(confirm(*tier));
    // The one request of this session: confirmed twice, redeemed once.
    const auto r = vouchers_.redeem(member.msisdn, tier->name,
                                    fmt::format("ussd:{}", session.id), actor, mo.now);
    using S = Redemption::Status;
    switch (r.status) {
      case S::issued:
        sms.push_back({member.msisdn, member.id, "voucher", lang, voucher_values(r), r.code,
                       std::nullopt, std::nullopt});
        [[fallthrough]];
      case S::already_issued:
        return final_screen("redeemed", {{"tier", r.tier},
                                         {"value", std::to_string(r.face_value)},
                                         {"balance", std::to_string(r.balance)}});
      case S::not_started:
      case S::ended: return final_screen("closed");
      case S::unknown_member: return final_screen("not_a_member");
      case S::insufficient_points:
        return final_screen("insufficient_points", {{"tier", r.tier},
                                                    {"price", std::to_string(r.price)},
                                                    {"balance", std::to_string(r.balance)}});
      case S::out_of_stock: return final_screen("out_of_stock", {{"tier", r.tier}});
      case S::failed:
      default: break;
    }
    error = r.error.empty() ? "redemption failed" : r.error;
    return {};
  }

  if (session.state == "merchants") {
    if (input == "9") return ussd_merchants_page(session, member, error);
    if (input == "0") return main_menu();
    session.page = 0;
    return again(ussd_merchants_page(session, member, error));
  }
  return main_menu();
}

UssdOutcome Service::handle_ussd(const UssdMo& mo) {
  UssdOutcome out;
  if (!menus_) {
    out.error = "no USSD menus loaded";
    return out;
  }
  db::Transaction tx(db_);
  if (!tx.begun()) {
    out.error = tx.begun().message;
    return out;
  }
  const std::string now = iso_time(mo.now);
  // The same step delivered again (its answer was lost): changes nothing.
  if (!mo.fingerprint.empty()) {
    auto seen = db_.prepare("SELECT 1 FROM inbox WHERE fingerprint = ? AND received_at >= ?");
    seen.bind(1, mo.fingerprint).bind(2, iso_time(mo.now - config_.ussd.session_timeout));
    switch (seen.step()) {
      case db::StepResult::row: out.status = UssdOutcome::Status::duplicate; return out;
      case db::StepResult::done: break;
      case db::StepResult::error: out.error = seen.status().message; return out;
    }
  }
  // Dials and answers past a limit are recorded and do nothing; the first
  // in a period gets a last screen that says why.
  LimitCheck limit;
  if (mo.step != UssdMo::Step::abort) {
    limit = SenderLimits(db_, config_.limits).ussd(mo.msisdn, mo.now, "ussd_slow_down");
    if (!limit.status.ok()) {
      out.error = limit.status.message;
      return out;
    }
  }
  const char* step_name = limit.overrun != Overrun::none   ? "limited"
                          : mo.step == UssdMo::Step::begin  ? "ussd_dial"
                          : mo.step == UssdMo::Step::answer ? "ussd_answer"
                                                            : "ussd_abort";
  auto record = db_.prepare(
      "INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at, fingerprint) "
      "VALUES (?, ?, ?, ?, 'ussd', ?, ?)");
  auto s = record.bind(1, mo.key).bind(2, mo.msisdn).bind(3, mo.text).bind(4, step_name)
               .bind(5, now).bind(6, mo.fingerprint).run();
  if (!s.ok()) {
    out.error = s.message;
    return out;
  }
  const std::int64_t inbox_id = db_.last_insert_id();

  auto end_session = [&](std::int64_t id, const char* reason) {
    auto end = db_.prepare(
        "UPDATE ussd_sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL");
    return end.bind(1, now).bind(2, reason).bind(3, id).run();
  };
  // The session this step belongs to, if it is still alive.
  UssdSession session;
  bool live = false;
  {
    auto find = db_.prepare(
        "SELECT id, language, state, COALESCE(tier, ''), page, expires_at FROM ussd_sessions "
        "WHERE msisdn = ? AND session_key = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1");
    find.bind(1, mo.msisdn).bind(2, mo.session_key);
    switch (find.step()) {
      case db::StepResult::row:
        session = {find.column_int(0), find.column_text(1), find.column_text(2),
                   find.column_text(3), find.column_int(4)};
        live = find.column_text(5) > now;
        if (!live) s = end_session(session.id, "timeout");
        break;
      case db::StepResult::done: break;  // no session: "timed out" for an answer
      case db::StepResult::error: s = find.status(); break;
    }
  }
  if (s.ok() && live && (mo.step != UssdMo::Step::answer || limit.overrun != Overrun::none))
    s = end_session(session.id, limit.overrun != Overrun::none  ? "limited"
                                : mo.step == UssdMo::Step::abort ? "abort"
                                                                 : "replaced");
  if (!s.ok()) {
    out.error = s.message;
    return out;
  }
  if (limit.overrun != Overrun::none) {
    out.overrun = limit.overrun;
    out.ended = true;
    if (limit.tell) {
      Reply told{mo.msisdn, std::nullopt, "ussd_slow_down", "zh", {}, std::nullopt, {},
                 UssdAnswer{config_.ussd.op_end, mo.request_session,
                            mo.now + config_.ussd.session_timeout}};
      db::Status found;
      if (const auto member = Ledger(db_).find_member(mo.msisdn, &found))
        told.language = member->language;
      s = found;
      told.body = menus_->screens->render("slow_down", told.language, {});
      if (s.ok()) s = queue(told, inbox_id, mo.now, mo.route);
      out.screen = "slow_down";
    }
    if (s.ok()) s = tx.commit();
    out.status = s.ok() ? UssdOutcome::Status::done : UssdOutcome::Status::failed;
    out.error = s.message;
    return out;
  }
  if (mo.step == UssdMo::Step::abort) {  // nothing to answer
    out.ended = true;
    out.status = (s = tx.commit()).ok() ? UssdOutcome::Status::done : UssdOutcome::Status::failed;
    out.error = s.message;
    return out;
  }

  Ledger ledger(db_);
  db::Status found;
  const auto member = ledger.find_member(mo.msisdn, &found);
  if (!found.ok()) {  // never "not a member" because the disk was busy
    out.error = found.message;
    return out;
  }
  const std::string language = member ? member->language : "zh";
  std::vector<Reply> sms;
  Screen screen;
  if (!member) {
    screen = {"not_a_member", menus_->screens->render("not_a_member", language, {}), true};
  } else if (mo.step == UssdMo::Step::answer && !live) {
    screen = {"timed_out", menus_->screens->render("timed_out", language, {}), true};
  } else {
    if (mo.step == UssdMo::Step::begin) {
      auto create = db_.prepare(
          "INSERT INTO ussd_sessions(msisdn, session_key, language, state, started_at, "
          "expires_at) VALUES (?, ?, ?, 'main', ?, ?)");
      s = create.bind(1, mo.msisdn).bind(2, mo.session_key).bind(3, language).bind(4, now)
              .bind(5, iso_time(mo.now + config_.ussd.session_timeout)).run();
      if (!s.ok()) {
        out.error = s.message;
        return out;
      }
      session = {db_.last_insert_id(), language, "main", "", 0};
      screen = {"main", menus_->screens->render("main", language, {}), false};
      // A shortcut walks the menu as if each choice had been answered, but
      // stops at the confirm screen: a dial string can come from a link or
      // a scam text, so spending points always takes a keypress on a screen
      // that says what it costs.
      for (const auto& choice : shortcut_choices(mo.text, config_.ussd.service_code)) {
        if (screen.end || session.state == "confirm") break;
        screen = ussd_step(session, choice, *member, mo, inbox_id, sms, out.error);
        if (!out.error.empty()) return out;
      }
    } else {
      screen = ussd_step(session, fold_keyword_text(mo.text), *member, mo, inbox_id, sms,
                         out.error);
      if (!out.error.empty()) return out;
    }
    auto save = db_.prepare(
        "UPDATE ussd_sessions SET state = ?, tier = ?, page = ?, expires_at = ?, "
        "ended_at = CASE WHEN ? THEN ? END, end_reason = CASE WHEN ? THEN 'done' END "
        "WHERE id = ?");
    s = save.bind(1, session.state).bind(2, session.tier).bind(3, session.page)
            .bind(4, iso_time(mo.now + config_.ussd.session_timeout))
            .bind(5, std::int64_t{screen.end}).bind(6, now).bind(7, std::int64_t{screen.end})
            .bind(8, session.id).run();
    if (!s.ok()) {
      out.error = s.message;
      return out;
    }
  }

  // The screen, then the SMS it promised: all in this transaction.
  Reply answer{mo.msisdn, member ? std::optional<std::int64_t>(member->id) : std::nullopt,
               "ussd_" + screen.name, language, {}, std::nullopt, screen.text,
               UssdAnswer{screen.end ? config_.ussd.op_end : config_.ussd.op_menu,
                          mo.request_session,
                          mo.now + config_.ussd.session_timeout}};
  s = queue(answer, inbox_id, mo.now, mo.route);
  for (const auto& r : sms) {
    if (!s.ok()) break;
    s = queue(r, inbox_id, mo.now, mo.route);
    out.messages.push_back(r.message);
  }
  if (s.ok()) s = tx.commit();
  if (!s.ok()) {
    out.error = s.message;
    out.messages.clear();
    return out;
  }
  out.screen = screen.name;
  out.ended = screen.end;
  out.status = UssdOutcome::Status::done;
  return out;
}

int Service::expire_ussd_sessions(Time now) {
  auto end = db_.prepare(
      "UPDATE ussd_sessions SET ended_at = ?, end_reason = 'timeout' WHERE ended_at IS NULL AND "
      "expires_at <= ?");
  if (!end.bind(1, iso_time(now)).bind(2, iso_time(now)).run().ok()) return 0;
  return db_.changes();
}

}  // namespace giftgate
