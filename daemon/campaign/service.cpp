#include "daemon/campaign/service.hpp"

#include <algorithm>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/pushes.hpp"
#include "protocol/split.hpp"

namespace giftgate {
namespace {

std::string sha256_hex(const std::string& data) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up on
  // every digest, which cost more than the digest itself.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!sha256 || !EVP_Digest(data.data(), data.size(), digest, &length, sha256, nullptr))
    return {};  // as before: no fingerprint, so no redelivery is recognised
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * length, '0');
  for (unsigned i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

// How far back an SMS still waiting for the same number is looked for (the
// gap between them in the outbox's order, a second, is in queue()'s SQL).
constexpr std::chrono::hours kFairHorizon{1};

}  // namespace

std::string mo_fingerprint(const std::string& msisdn, const std::string& destination,
                           const std::string& text) {
  return sha256_hex(fmt::format("{}\n{}\n{}", msisdn, destination, text));
}

Service::Service(db::Database& db, const CampaignConfig& config, std::shared_ptr<const Templates> templates)
    : db_(db), config_(config), templates_(std::move(templates)), vouchers_(db, config.campaign) {}

std::string Service::local_time(Time t) const {
  return format_local_time(config_.time_zone, t);
}

std::string Service::local_time(const std::string& iso) const {
  const auto t = parse_iso_time(iso);
  return t ? local_time(*t) : iso;
}

TemplateValues Service::fit_list(const std::string& message, const std::string& language,
                                TemplateValues values, const std::string& list_name,
                                const std::vector<std::string>& lines, const Paging& paging) const {
  // Pages of as many lines as keep the message within the parts allowed (at
  // least one a page), each tried with the longest "more" line it may get.
  const smpp::SplitOptions split;
  const std::string worst_more =
      paging.more.empty()
          ? std::string()
          : templates_->render(paging.more, language,
                               {{"page", longest_value("page")},
                                {"pages", longest_value("pages")},
                                {"next", longest_value("next")}});
  auto fits = [&](const std::string& list) {
    TemplateValues trial = values;
    trial.emplace_back(list_name, list);
    trial.emplace_back("more", worst_more);
    return smpp::count_parts(templates_->render(message, language, trial), split) <=
           config_.max_parts;
  };
  std::vector<std::string> pages;
  for (const auto& line : lines) {
    if (!pages.empty() && fits(pages.back() + "\n" + line)) {
      pages.back() += "\n" + line;
      continue;
    }
    // Unpaged, the first page is all there is.
    if (paging.more.empty() && !pages.empty()) break;
    pages.push_back(line);
  }
  const std::size_t page = std::clamp<std::size_t>(paging.page, 1, std::max<std::size_t>(pages.size(), 1));
  values.emplace_back(list_name, pages.empty() ? std::string() : pages[page - 1]);
  std::string more;
  if (pages.size() > 1) {
    const TemplateValues where{{"page", std::to_string(page)},
                               {"pages", std::to_string(pages.size())},
                               {"next", std::to_string(page + 1)}};
    more = templates_->render(page < pages.size() ? paging.more : paging.last, language, where);
  }
  values.emplace_back("more", std::move(more));
  return values;
}

std::optional<std::vector<std::string>> Service::voucher_lines(std::int64_t member_id,
                                                               const std::string& language,
                                                               Time now, std::string& error) const {
  auto q = db_.prepare(
      "SELECT code, tier, face_value, expires_at FROM vouchers WHERE member_id = ? AND "
      "state = 'issued' AND expires_at > ? ORDER BY expires_at, code");
  q.bind(1, member_id).bind(2, iso_time(now));
  std::vector<std::string> lines;
  const auto s = q.each_row([&] {
    lines.push_back(templates_->render("voucher_line", language,
                                       {{"code", q.column_text(0)},
                                        {"tier", q.column_text(1)},
                                        {"value", q.column_text(2)},
                                        {"expires", local_time(q.column_text(3))}}));
  });
  if (!s.ok()) {
    error = s.message;
    return std::nullopt;
  }
  return lines;
}

std::string Service::tiers_list(const std::string& language) const {
  std::string out;
  for (const auto& t : config_.campaign.tiers) {
    if (!out.empty()) out += '\n';
    out += templates_->render("tier_line", language,
                              {{"tier", t.name},
                               {"value", std::to_string(t.face_value)},
                               {"price", std::to_string(t.price)}});
  }
  return out;
}

MoOutcome Service::handle(const Mo& mo) {
  MoOutcome out;
  db::Transaction tx(db_);
  if (!tx.begun()) {
    out.error = tx.begun().message;
    return out;
  }
  auto merchant = db_.prepare("SELECT 1 FROM merchant_phones WHERE msisdn = ?");
  const bool from_merchant = merchant.bind(1, mo.msisdn).step() == db::StepResult::row;
  db::Status found;
  const auto member = Ledger(db_).find_member(mo.msisdn, &found);
  // "Not a merchant" or "not a member" because the database failed would
  // be a wrong answer to a real person: nothing is answered instead.
  for (const auto& s : {merchant.status(), found})
    if (!s.ok()) {
      out.error = s.message;
      return out;
    }
  const std::string language = member ? member->language : "zh";
  const Request request = config_.keywords.parse(mo.text, from_merchant);
  out.command = request.command;

  // A question (balance, vouchers, merchants, help) is answered again
  // whatever came before: a redelivery of one costs an SMS, and taking a
  // member's repeat for one would leave the member unanswered. Only what
  // changes something is held to the redelivery rule.
  if (!mo.fingerprint.empty() && changes_something(request)) {
    // The latest such MO. (ORDER BY id DESC LIMIT 1 would build a
    // temporary b-tree to sort in, for every MO.)
    auto earlier = db_.prepare(
        "SELECT id, epoch FROM inbox WHERE id = (SELECT MAX(id) FROM inbox WHERE fingerprint = ? "
        "AND received_at >= ?)");
    earlier.bind(1, mo.fingerprint).bind(2, iso_time(mo.now - dedupe_window_));
    const auto seen = earlier.step();
    if (seen == db::StepResult::error) {  // a redelivery unrecognised would be done twice
      out.error = earlier.status().message;
      return out;
    }
    if (seen == db::StepResult::row && earlier.column_text(1) != mo.epoch) {
      // The redelivery now belongs to this connection: the member sending
      // the same text again on it is a new message.
      auto claim = db_.prepare("UPDATE inbox SET epoch = ? WHERE id = ?");
      auto c = claim.bind(1, mo.epoch).bind(2, earlier.column_int(0)).run();
      if (c.ok()) c = tx.commit();
      if (!c.ok()) {
        out.error = c.message;
        return out;
      }
      out.status = MoOutcome::Status::duplicate;
      return out;
    }
  }

  // Past a limit the MO is recorded and does nothing: one number cannot
  // make the service send without end, nor fill the outbox before others.
  SenderLimits limits(db_, config_.limits);
  const auto limit = limits.sms(mo.msisdn, from_merchant, member.has_value(), mo.now, "slow_down");
  if (!limit.status.ok()) {
    out.error = limit.status.message;
    return out;
  }
  out.overrun = limit.overrun;

  auto record = db_.prepare(
      "INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at, fingerprint, "
      "epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const auto s = record.bind(1, mo.key)
                     .bind(2, mo.msisdn)
                     .bind(3, mo.text)
                     .bind(4, limit.overrun != Overrun::none ? "limited"
                              : request.understood          ? command_name(request.command)
                                                            : "unknown")
                     .bind(5, mo.channel)
                     .bind(6, iso_time(mo.now))
                     .bind(7, mo.fingerprint)
                     .bind(8, mo.epoch)
                     .run();
  if (s.constraint()) {
    out.status = MoOutcome::Status::duplicate;
    return out;
  }
  if (!s.ok()) {
    out.error = s.message;
    return out;
  }
  const std::int64_t inbox_id = db_.last_insert_id();

  std::vector<Reply> replies;
  if (limit.overrun == Overrun::none) {
    bool failed = false;
    replies = answer(mo, inbox_id, request, member, out, failed);
    if (failed) return out;
  } else if (limit.tell) {
    replies.push_back({mo.msisdn, std::nullopt, "slow_down", language, {}, std::nullopt,
                       std::nullopt, std::nullopt});
  }

  for (const auto& r : replies) {
    const auto q = queue(r, inbox_id, mo.now, mo.route);
    if (!q.ok()) {  // none of them is queued: the transaction rolls back
      out.error = q.message;
      out.replies.clear();
      out.messages.clear();
      return out;
    }
    out.replies.push_back(db_.last_insert_id());
    out.messages.push_back(r.message);
  }
  if (const auto c = tx.commit(); !c.ok()) {
    out.error = c.message;
    out.replies.clear();
    out.messages.clear();
    return out;
  }
  out.status = MoOutcome::Status::done;
  return out;
}

db::Status Service::queue(const Reply& r, std::optional<std::int64_t> inbox_id, Time now,
                          const std::string& route) {
  // Served by priority, then by fair_at: a USSD screen before any SMS; an
  // SMS to a number that has others waiting a second after the last of them,
  // so that one number's backlog never holds up anyone else's reply.
  std::string fair_at = iso_time(now);
  if (!r.ussd) {
    auto after_last = db_.prepare(
        "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', MAX(fair_at), '+1 second') FROM outbox "
        "WHERE msisdn = ? AND created_at >= ? AND state = 'queued' AND channel = 'sms'");
    after_last.bind(1, r.msisdn).bind(2, iso_time(now - kFairHorizon));
    if (after_last.step() != db::StepResult::row)
      return after_last.status().ok() ? db::Status{1, "MAX gave no row"} : after_last.status();
    if (!after_last.column_null(0)) fair_at = std::max(fair_at, after_last.column_text(0));
  }
  auto insert = db_.prepare(
      "INSERT INTO outbox(msisdn, member_id, message, language, body, voucher_code, inbox_id, "
      "next_attempt_at, created_at, channel, ussd_op, ussd_session, expires_at, priority, "
      "fair_at, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, r.msisdn);
  if (r.member_id) insert.bind(2, *r.member_id);
  else insert.bind(2, std::nullopt);
  insert.bind(3, r.message)
      .bind(4, r.language)
      .bind(5, r.body ? *r.body : templates_->render(r.message, r.language, r.values))
      .bind(6, r.voucher_code);
  if (inbox_id) insert.bind(7, *inbox_id);
  else insert.bind(7, std::nullopt);
  insert.bind(8, iso_time(now))
      .bind(9, iso_time(now));
  if (r.ussd) {
    insert.bind(10, "ussd").bind(11, std::int64_t{r.ussd->op}).bind(12, r.ussd->session)
        .bind(13, iso_time(r.ussd->expires)).bind(14, kPriorityUssd);
  } else {
    insert.bind(10, "sms").bind(11, std::nullopt).bind(12, std::nullopt).bind(13, std::nullopt)
        .bind(14, kPriorityReply);
  }
  return insert.bind(15, fair_at)
      .bind(16, route.empty() ? std::nullopt : std::optional<std::string>(route))
      .run();
}

TemplateValues Service::voucher_values(const Redemption& r) const {
  return {{"code", r.code},
          {"tier", r.tier},
          {"value", std::to_string(r.face_value)},
          {"expires", local_time(r.expires_at)},
          {"balance", std::to_string(r.balance)}};
}

db::Status Service::add_used_note(const Verification& v, Time now, std::vector<Reply>& replies) {
  db::Status found;
  const auto owner = Ledger(db_).find_member(v.member_msisdn, &found);
  if (!found.ok()) return found;
  auto name = db_.prepare("SELECT name FROM merchants WHERE id = ?");
  name.bind(1, v.merchant_id);
  const auto named = name.step();
  if (named == db::StepResult::error) return name.status();
  const std::string merchant_name =
      named == db::StepResult::row ? name.column_text(0) : v.merchant_id;
  if (owner)
    replies.push_back({owner->msisdn, owner->id, "voucher_used_note", owner->language,
                       {{"code", v.code},
                        {"value", std::to_string(v.face_value)},
                        {"merchant", merchant_name},
                        {"time", local_time(now)}},
                       std::nullopt, std::nullopt, std::nullopt});
  return {};
}

std::vector<Service::Reply> Service::answer(const Mo& mo, std::int64_t inbox_id,
                                            const Request& request,
                                            const std::optional<Member>& member, MoOutcome& out,
                                            bool& failed) {
  std::string& error = out.error;
  Ledger ledger(db_);
  const std::string language = member ? member->language : "zh";
  const std::optional<std::int64_t> member_id =
      member ? std::optional<std::int64_t>(member->id) : std::nullopt;
  // The MO that caused it, as giftctl member lists it: inbox row.
  const Actor actor{mo.channel, fmt::format("mo {}", inbox_id)};
  auto reply = [&](std::string message, TemplateValues values = {},
                   std::optional<std::string> code = std::nullopt) {
    return std::vector<Reply>{
        {mo.msisdn, member_id, std::move(message), language, std::move(values), std::move(code),
         std::nullopt, std::nullopt}};
  };

  if (request.command == Command::verify) {
    const auto v = vouchers_.verify(mo.msisdn, request.argument, actor, mo.now);
    using S = Verification::Status;
    if (v.counted) out.verify_failure = v.merchant_id;
    out.merchant_locked = v.counted && !v.locked_until.empty();
    const std::string shown = v.code.empty() ? std::string(request.argument) : v.code;
    switch (v.status) {
      case S::used: {
        auto replies = reply("verified", {{"code", v.code},
                                          {"tier", v.tier},
                                          {"value", std::to_string(v.face_value)},
                                          {"member", mask_msisdn(v.member_msisdn)}});
        // A voucher marked used without its owner's note would be a
        // verification half-done: the whole MO fails instead.
        if (const auto s = add_used_note(v, mo.now, replies); !s.ok()) {
          failed = true;
          error = s.message;
          return {};
        }
        return replies;
      }
      case S::bad_format: return reply("verify_bad_format");
      case S::bad_check_digit: return reply("verify_bad_check_digit", {{"code", shown}});
      // A code of another city gets the same answer as one that does not
      // exist: a guesser must not learn that it hit a live code.
      case S::unknown_code:
      case S::wrong_city: return reply("verify_unknown", {{"code", shown}});
      case S::already_used:
        return reply("verify_already_used", {{"code", shown}, {"time", local_time(v.used_at)}});
      case S::voided: return reply("verify_voided", {{"code", shown}});
      case S::expired: return reply("verify_expired", {{"code", shown}});
      case S::locked_out: return reply("verify_locked", {{"until", local_time(v.locked_until)}});
      case S::not_a_merchant: return reply("help");
      case S::merchant_disabled: return reply("verify_merchant_disabled");
      case S::failed: break;
    }
    failed = true;
    error = v.error;
    return {};
  }

  if (request.command == Command::help || !request.understood) return reply("help");
  if (!member) return reply("not_a_member");

  switch (request.command) {
    case Command::balance: {
      const auto balance = ledger.balance(member->id);
      if (!balance) {  // never "0 points" for a sum that failed
        failed = true;
        error = ledger.last_error();
        return {};
      }
      return reply("balance",
                   {{"balance", std::to_string(*balance)}, {"tiers", tiers_list(language)}});
    }
    case Command::opt_out:
    case Command::opt_in: {
      const bool out = request.command == Command::opt_out;
      auto set = db_.prepare("UPDATE members SET care_opt_out = ? WHERE id = ?");
      auto s = set.bind(1, std::int64_t{out}).bind(2, member->id).run();
      if (s.ok()) s = record_event(db_, out ? "care_opt_out" : "care_opt_in", member->id, actor, "");
      // What a push still has waiting for them goes no further.
      if (s.ok() && out) s = Pushes::member_opted_out(db_, member->id, mo.now);
      if (!s.ok()) {
        failed = true;
        error = s.message;
        return {};
      }
      return reply(out ? "opted_out" : "opted_in");
    }
    case Command::my_vouchers: {
      const auto listed = voucher_lines(member->id, language, mo.now, error);
      if (!listed) {  // never "no vouchers" for a list that could not be read
        failed = true;
        return {};
      }
      const auto& lines = *listed;
      if (lines.empty()) return reply("no_vouchers");
      // "CX 2": the second page of the list.
      const int page = request.argument.empty() ? 1 : std::stoi(request.argument);
      return reply("my_vouchers", fit_list("my_vouchers", language,
                                           {{"count", std::to_string(lines.size())}}, "vouchers",
                                           lines, voucher_pages(page)));
    }
    case Command::merchants: {
      const auto listed = vouchers_.merchants_in(member->city, request.argument);
      if (!listed) {
        failed = true;
        error = vouchers_.last_error();
        return {};
      }
      const auto& merchants = *listed;
      const std::string city = templates_->name_of("city", member->city, language);
      if (merchants.empty()) return reply("no_merchants", {{"city", city}});
      std::vector<std::string> lines;
      for (const auto& m : merchants)
        lines.push_back(templates_->render("merchant_line", language,
                                           {{"name", m.name},
                                            {"kind", templates_->name_of("kind", m.kind, language)},
                                            {"offers", offers_line(m.offers)}}));
      return reply("merchants",
                   fit_list("merchants", language, {{"city", city}}, "merchants", lines));
    }
    case Command::redeem:
    case Command::confirm: {
      const auto r = request.command == Command::redeem
                         ? vouchers_.request(mo.msisdn, request.argument, "mo:" + mo.key, actor, mo.now)
                         : vouchers_.confirm(mo.msisdn, actor, mo.now);
      using S = Redemption::Status;
      const std::string minutes = std::to_string(config_.campaign.confirm_minutes);
      switch (r.status) {
        case S::issued:
        case S::already_issued:
          return reply("voucher", voucher_values(r), r.code);
        case S::offered:
          return reply("offer", {{"tier", r.tier},
                                 {"value", std::to_string(r.face_value)},
                                 {"price", std::to_string(r.price)},
                                 {"balance", std::to_string(r.balance)},
                                 {"minutes", minutes}});
        case S::not_started:
          return reply("not_started", {{"start", local_time(config_.campaign.start)}});
        case S::ended: return reply("ended", {{"end", local_time(config_.campaign.end)}});
        case S::unknown_member: return reply("not_a_member");
        case S::unknown_tier: return reply("unknown_tier", {{"tiers", tiers_list(language)}});
        case S::insufficient_points:
          return reply("insufficient_points", {{"tier", r.tier},
                                               {"price", std::to_string(r.price)},
                                               {"balance", std::to_string(r.balance)}});
        case S::out_of_stock: return reply("out_of_stock", {{"tier", r.tier}});
        case S::no_offer: return reply("no_offer");
        case S::offer_expired: return reply("offer_expired", {{"minutes", minutes}});
        case S::failed: break;
      }
      failed = true;
      error = r.error;
      return {};
    }
    default: return reply("help");
  }
}

}  // namespace giftgate
