// The service desk's pages: search, a member's page, a voucher's page, and
// the actions on them. Each handler reads the form, calls Desk or the
// reports, and writes HTML; the frame (console.cpp) has already checked the
// session, the CSRF token and may() before any of them runs.
//
// Errors: a database failure is a 503 that says "try again" and is logged
// (without numbers or codes); an unknown member or code is a 404 with
// <p id="not-found">; a refusal by the rules (wrong state, too few points)
// is 409/422 saying why in the agent's language.
#include <openssl/rand.h>

#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "daemon/campaign/desk.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "daemon/console/console.hpp"
#include "daemon/console/html.hpp"

namespace giftgate::console {
namespace {

using L = Language;

// --- small pieces -----------------------------------------------------------

// The database failed: logged for the operators (the route and what the
// database said, never a number or code), answered as "try again".
http::Response database_failed(Context& context, const Page& page, std::string_view what,
                               std::string_view error) {
  context.log.error("console database failed",
                    {{"what", what}, {"agent", page.session.name}, {"error", error}});
  return database_page(page, what);
}

// A page saying that nothing matches, with <p id="not-found">.
http::Response not_found(const Page& page, std::string_view message) {
  return console::page(page, 404, tr(page.language, "Not found", "未找到"),
                       fmt::format("<p class=\"error\" id=\"not-found\">{}</p>\n", escape(message)));
}

// The check digit caught a typo: said, nothing looked up (a near code
// could be another member's voucher).
http::Response check_digit_page(const Page& page, std::string_view typed) {
  const auto l = page.language;
  return console::page(
      page, 200, tr(l, "Check the code", "请核对券码"),
      fmt::format("<p class=\"error\" id=\"check-digit\">{}</p>\n<p>{} <code>{}</code></p>\n",
                  escape(tr(l,
                            "The check digit does not match: a character was probably misheard; "
                            "ask the member to read the code again.",
                            "校验位不符：可能听错了某个字符，请会员再读一遍券码。")),
                  escape(tr(l, "As typed:", "输入的是：")), escape(typed)));
}

// Random text for the redeem form's request field: a fresh one each time
// the page is drawn, so one press redeems once however often it is sent,
// and a second redemption needs the page again. Empty if OpenSSL fails.
std::string random_request() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  std::string out;
  for (const unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

// A request field as the redeem form makes it: 16 to 64 of [0-9a-zA-Z].
bool good_request(std::string_view request) {
  if (request.size() < 16 || request.size() > 64) return false;
  for (const char c : request)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

// The member a path or form names, by number in any form a caller reads
// out. nullopt with *failed set when the database could not say.
std::optional<Member> find_member(Context& context, std::string_view typed, std::string* number,
                                  db::Status* status) {
  const auto n = normalize_msisdn(typed, context.config.default_country);
  *status = {};
  if (!n) return std::nullopt;
  if (number) *number = *n;
  return Ledger(context.db).find_member(*n, status);
}

// The report tables' column names in Chinese, for an agent who reads it.
std::string column_zh(const std::string& column) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"at", "时间"},          {"points", "积分"},        {"balance", "余额"},
      {"reason", "原因"},      {"channel", "渠道"},       {"by", "操作人"},
      {"code", "券码"},        {"tier", "档位"},          {"value", "面值"},
      {"state", "状态"},       {"issued_at", "发放时间"}, {"expires_at", "到期时间"},
      {"used_at", "使用时间"}, {"merchant", "商户"},      {"event", "事件"},
      {"voucher", "券"},       {"detail", "详情"},        {"read as", "识别为"},
      {"text", "内容"},        {"mo", "上行编号"},        {"message", "消息"},
      {"attempts", "发送次数"}, {"final_at", "结束时间"}, {"last_error", "最后错误"},
      {"answers mo", "回复上行"}, {"id", "编号"},         {"attempt", "第几次"},
      {"part", "分段"},        {"smsc answer", "短信中心应答"}, {"receipt", "回执"},
      {"receipt_at", "回执时间"}, {"ended_at", "结束时间"}, {"last screen", "最后界面"},
      {"ended", "结束方式"},   {"language", "语言"},      {"session", "会话"},
      {"push", "推送"},        {"template", "模板"},      {"recipient", "接收状态"},
      {"message state", "消息状态"}, {"member", "会员"},   {"city", "城市"},
  };
  for (const auto& [en, zh] : kNames)
    if (column == en) return zh;
  return column;
}

// `table` with its headers in the agent's language.
Table localized(Table table, L language) {
  if (language == L::zh)
    for (auto& c : table.columns) c = column_zh(c);
  return table;
}

std::string section(std::string_view id, std::string_view title, const std::string& body) {
  return fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", escape(id), escape(title),
                     body);
}

// What a ?done=WORD says, in the agent's language; empty for a word no action gives.
std::string_view done_text(std::string_view word, L l) {
  if (word == "resent") return tr(l, "The voucher's SMS is queued to be sent again.", "券短信已重新排队发送。");
  if (word == "voided") return tr(l, "The voucher is voided.", "该券已作废。");
  if (word == "voided-refunded")
    return tr(l, "The voucher is voided and its points given back.", "该券已作废，积分已退回。");
  if (word == "reinstated") return tr(l, "The voucher is usable again.", "该券已恢复可用。");
  if (word == "redeemed")
    return tr(l, "A voucher was issued; its SMS is on its way to the member.", "已兑换，券短信正在发送给会员。");
  if (word == "points") return tr(l, "The points are corrected.", "积分已调整。");
  return {};
}

std::string done_paragraph(const Page& page) {
  const auto text = done_text(page.get("done"), page.language);
  return text.empty() ? std::string()
                      : fmt::format("<p class=\"done\" id=\"done\">{}</p>\n", escape(text));
}

// The reason of an action's form, or the 400 that says it is needed.
std::optional<http::Response> reason_missing(const Page& page) {
  if (good_desk_reason(page.field("reason"))) return std::nullopt;
  return error_page(page, 400,
                    tr(page.language,
                       "A reason is needed (1 to 200 characters, no control characters); nothing "
                       "was done.",
                       "必须填写原因（1 到 200 个字符，不含控制字符），未做任何更改。"));
}

// The code a path names, canonical; or the answer that says why not.
std::optional<std::string> path_code(const Page& page, std::optional<http::Response>* answer) {
  std::string code;
  switch (check_voucher_code(page.param("code"), &code)) {
    case CodeCheck::ok: return code;
    case CodeCheck::bad_check_digit: *answer = check_digit_page(page, page.param("code")); break;
    case CodeCheck::bad_format:
      *answer = not_found(page, tr(page.language, "That is not a voucher code.", "这不是券码。"));
      break;
  }
  return std::nullopt;
}

std::string voucher_path(std::string_view code) {
  return fmt::format("/console/vouchers/{}", path_segment(code));
}
std::string member_path(std::string_view msisdn) {
  return fmt::format("/console/members/{}", path_segment(msisdn));
}

// --- search -------------------------------------------------------------------

http::Response search(Context& context, Page& page) {
  const auto l = page.language;
  const std::string typed(page.get("q"));
  const auto form = fmt::format(
      "<form method=\"get\" action=\"/console/search\" id=\"search\"><label>{} <input "
      "type=\"search\" name=\"q\" value=\"{}\" required></label><button type=\"submit\">{}"
      "</button></form>\n",
      escape(tr(l, "Phone number or voucher code", "手机号或券码")), escape(typed),
      escape(tr(l, "Search", "查询")));
  if (typed.find_first_not_of(" \t") == std::string::npos)
    return console::page(page, 200, tr(l, "Search", "查询"), form);

  std::string code;
  switch (check_voucher_code(typed, &code)) {
    case CodeCheck::ok: {
      std::string error;
      const auto facts = voucher_facts(context.db, code, &error);
      if (!facts) return database_failed(context, page, "search voucher", error);
      if (facts->rows.empty())
        return not_found(page, tr(l, "No voucher has that code.", "没有这个券码的券。"));
      return redirect(voucher_path(code));
    }
    case CodeCheck::bad_check_digit: return check_digit_page(page, typed);
    case CodeCheck::bad_format: break;
  }
  std::string number;
  db::Status status;
  const auto member = find_member(context, typed, &number, &status);
  if (!status.ok()) return database_failed(context, page, "search member", status.message);
  if (member) return redirect(member_path(member->msisdn));
  if (number.empty())
    return not_found(page, tr(l,
                              "That is neither a phone number nor a voucher code (two letters, "
                              "eight digits).",
                              "这既不是手机号，也不是券码（两个字母加八位数字）。"));
  return not_found(page, tr(l, "No member has that phone number.", "没有这个手机号的会员。"));
}

// --- the member's page ----------------------------------------------------------

http::Response member_page(Context& context, Page& page) {
  const auto l = page.language;
  db::Status status;
  const auto member = find_member(context, page.param("msisdn"), nullptr, &status);
  if (!status.ok()) return database_failed(context, page, "member page", status.message);
  if (!member) return not_found(page, tr(l, "No member has that phone number.", "没有这个手机号的会员。"));
  // The canonical address, so a bookmark or a back link names one page.
  if (page.param("msisdn") != member->msisdn) return redirect(member_path(member->msisdn));

  std::string error;
  const auto vouchers = member_vouchers(context.db, member->id, &error);
  const auto ledger = vouchers ? member_ledger(context.db, member->id, &error) : std::nullopt;
  const auto messages = ledger ? member_messages(context.db, member->msisdn, &error) : std::nullopt;
  const auto parts = messages ? member_parts(context.db, member->msisdn, &error) : std::nullopt;
  const auto texts = parts ? member_texts(context.db, member->msisdn, &error) : std::nullopt;
  const auto ussd = texts ? member_ussd(context.db, member->msisdn, &error) : std::nullopt;
  const auto pushes = ussd ? member_pushes(context.db, member->id, &error) : std::nullopt;
  const auto history = pushes ? member_events(context.db, member->id, &error) : std::nullopt;
  // Read whole or not at all: a record cut short is never shown as the whole.
  if (!history) return database_failed(context, page, "member page", error);
  Ledger book(context.db);
  const auto balance = book.balance(member->id);
  if (!balance) return database_failed(context, page, "member balance", book.last_error());

  std::string body = done_paragraph(page);
  body += fmt::format("<p class=\"member\">{} <strong id=\"member-msisdn\">+{}</strong> · {} {} · {} {}</p>\n",
                      escape(tr(l, "Member", "会员")), escape(member->msisdn),
                      escape(tr(l, "city", "城市")), escape(member->city),
                      escape(tr(l, "language", "语言")), escape(member->language));
  body += section("balance", tr(l, "Balance", "积分余额"),
                  fmt::format("<p><span id=\"balance-points\">{}</span> {}</p>\n", *balance,
                              escape(tr(l, "points", "积分"))));

  std::string actions;
  {
    std::string tiers;
    for (const auto& t : context.config.campaign.tiers)
      tiers += fmt::format("<option value=\"{}\">{} · {} {} · {} {}</option>", escape(t.name),
                           escape(t.name), t.face_value, escape(tr(l, "yuan", "元")), t.price,
                           escape(tr(l, "points", "积分")));
    actions += post_form(
        page, member_path(member->msisdn) + "/redeem", "redeem",
        fmt::format("<label>{} <select name=\"tier\">{}</select></label> {}"
                    "<input type=\"hidden\" name=\"request\" value=\"{}\">",
                    escape(tr(l, "Tier", "档位")), tiers, reason_field(page),
                    escape(random_request())),
        tr(l, "Redeem for the member", "代会员兑换"));
    if (may(page.session.role, DeskAction::correct_points))
      actions += post_form(
          page, member_path(member->msisdn) + "/points", "correct-points",
          fmt::format("<label>{} <input type=\"number\" name=\"delta\" required></label> {}",
                      escape(tr(l, "Points (+ to add, - to take)", "积分（+ 增加，- 扣减）")),
                      reason_field(page)),
          tr(l, "Correct the points", "调整积分"));
  }
  body += section("actions", tr(l, "Actions", "操作"), actions);

  body += section("vouchers", tr(l, "Vouchers", "券"),
                  table_html(localized(*vouchers, l), "vouchers-table",
                                   tr(l, "No vouchers.", "没有券。"), 0, "/console/vouchers/"));
  body += section("ledger", tr(l, "Points ledger", "积分明细"),
                  table_html(localized(*ledger, l), "ledger-table", tr(l, "No entries.", "没有记录。")));
  body += section("messages", tr(l, "Messages sent", "发出的短信"),
                  table_html(localized(*messages, l), "messages-table",
                             tr(l, "No messages.", "没有短信。")) +
                      fmt::format("<h3>{}</h3>\n", escape(tr(l, "Parts and receipts", "分段与回执"))) +
                      table_html(localized(*parts, l), "parts-table",
                                 tr(l, "No parts sent.", "没有发出的分段。")));
  body += section("texts", tr(l, "Texts the member sent", "会员发来的短信"),
                  table_html(localized(*texts, l), "texts-table", tr(l, "No texts.", "没有短信。")));
  body += section("ussd", tr(l, "USSD sessions", "USSD 会话"),
                  table_html(localized(*ussd, l), "ussd-table", tr(l, "No sessions.", "没有会话。")));
  body += section("pushes", tr(l, "Pushes received", "收到的推送"),
                  table_html(localized(*pushes, l), "pushes-table", tr(l, "No pushes.", "没有推送。")));
  body += section("complaints", tr(l, "Complaints", "投诉"),
                  member_complaints(context, page, member->id) +
                      open_complaint_form(page, member->msisdn, std::nullopt));
  body += section("history", tr(l, "History", "历史记录"),
                  table_html(localized(*history, l), "history-table", tr(l, "No events.", "没有记录。")));
  return console::page(page, 200, fmt::format("{} +{}", tr(l, "Member", "会员"), member->msisdn),
                       body);
}

// --- the voucher's page -----------------------------------------------------------

http::Response voucher_page(Context& context, Page& page) {
  const auto l = page.language;
  std::optional<http::Response> answer;
  const auto code = path_code(page, &answer);
  if (!code) return *answer;
  if (page.param("code") != *code) return redirect(voucher_path(*code));
  std::string error;
  const auto facts = voucher_facts(context.db, *code, &error);
  if (!facts) return database_failed(context, page, "voucher page", error);
  if (facts->rows.empty()) return not_found(page, tr(l, "No voucher has that code.", "没有这个券码的券。"));
  const auto events = voucher_events(context.db, *code, &error);
  if (!events) return database_failed(context, page, "voucher page", error);
  const auto& row = facts->rows[0];
  std::string member, merchant_id;
  for (std::size_t c = 0; c < facts->columns.size(); ++c) {
    if (facts->columns[c] == "member") member = row[c];
    if (facts->columns[c] == "merchant") merchant_id = row[c];
  }
  std::optional<Table> merchant;
  if (!merchant_id.empty()) {
    merchant = merchant_facts(context.db, merchant_id, &error);
    if (!merchant) return database_failed(context, page, "voucher page", error);
  }

  std::string body = done_paragraph(page);
  std::string dl = "<dl>\n";
  for (std::size_t c = 0; c < facts->columns.size(); ++c) {
    const auto& name = facts->columns[c];
    std::string value = escape(row[c]);
    if (name == "member" && !row[c].empty()) value = link(member_path(row[c]), "+" + row[c]);
    if (name == "merchant" && merchant && !merchant->rows.empty())
      value = fmt::format("{} <span id=\"merchant-name\">{}</span>", escape(row[c]),
                          escape(merchant->rows[0][1]));
    dl += fmt::format("<dt>{}</dt><dd id=\"fact-{}\">{}</dd>\n",
                      escape(l == L::zh ? column_zh(name) : name), escape(name), value);
  }
  body += section("facts", tr(l, "Voucher", "券"), dl + "</dl>\n");
  body += section("timeline", tr(l, "Timeline, from issue to use", "时间线：从发放到使用"),
                  table_html(localized(*events, l), "timeline-table",
                             tr(l, "No events.", "没有记录。")));

  const auto path = voucher_path(*code);
  std::string actions =
      post_form(page, path + "/resend", "resend", reason_field(page),
                tr(l, "Send the voucher SMS again", "重发券短信"));
  actions += post_form(
      page, path + "/void", "void",
      fmt::format("{} <label><input type=\"checkbox\" name=\"refund\" value=\"1\" checked> {}</label>",
                  reason_field(page), escape(tr(l, "Give the points back", "退回积分"))),
      tr(l, "Void", "作废"));
  if (may(page.session.role, DeskAction::reinstate))
    actions += post_form(page, path + "/reinstate", "reinstate", reason_field(page),
                         tr(l, "Reinstate (usable again)", "恢复可用"));
  actions += open_complaint_form(page, member, *code);
  body += section("actions", tr(l, "Actions", "操作"), actions);
  return console::page(page, 200, fmt::format("{} {}", tr(l, "Voucher", "券"), *code), body);
}

// --- actions on a voucher ------------------------------------------------------------

// A Desk's refusal of a void or reinstate, as the agent reads it; nullopt for ok.
std::optional<http::Response> admin_answer(Context& context, const Page& page, AdminResult result,
                                           const Desk& desk, bool reinstate) {
  const auto l = page.language;
  switch (result) {
    case AdminResult::ok: return std::nullopt;
    case AdminResult::unknown_code:
      return not_found(page, tr(l, "No voucher has that code.", "没有这个券码的券。"));
    case AdminResult::wrong_state:
      return error_page(page, 409,
                        reinstate ? tr(l, "This voucher is not used: there is nothing to reinstate.",
                                       "该券未被使用，无需恢复。")
                                  : tr(l,
                                       "Only an unused voucher can be voided: this one is used or "
                                       "voided already.",
                                       "只有未使用的券可以作废：该券已使用或已作废。"));
    case AdminResult::invalid:
      return reason_missing(page).value_or(error_page(page, 400, desk.last_error()));
    case AdminResult::over_limit:
      return error_page(page, 422,
                        tr(l,
                           "Giving the points back would take the member past the most points a "
                           "member may hold; nothing was done. Void it without the refund.",
                           "退回积分会超过会员积分上限，未做任何更改。请不退积分作废。"));
    case AdminResult::failed: break;
  }
  return database_failed(context, page, reinstate ? "reinstate" : "void", desk.last_error());
}

Desk desk_of(Context& context) {
  return Desk(context.db, context.config, context.service, context.outbox);
}

http::Response resend(Context& context, Page& page) {
  std::optional<http::Response> answer;
  const auto code = path_code(page, &answer);
  if (!code) return *answer;
  if (auto r = reason_missing(page)) return *r;
  auto desk = desk_of(context);
  const auto resent = desk.resend(*code, page.field("reason"), page.actor, page.now);
  switch (resent.status) {
    case Outbox::Resent::Status::queued: return redirect(voucher_path(*code) + "?done=resent");
    case Outbox::Resent::Status::not_found:
      return not_found(page, tr(page.language, "No voucher SMS carries that code.",
                                "没有载有这个券码的短信。"));
    case Outbox::Resent::Status::body_pruned:
      return error_page(page, 409,
                        tr(page.language,
                           "The SMS's text was removed by the retention rules: it cannot be sent "
                           "again.",
                           "该短信内容已按保留规则删除，无法重发。"));
    case Outbox::Resent::Status::failed: break;
  }
  return database_failed(context, page, "resend", resent.error);
}

http::Response void_voucher(Context& context, Page& page) {
  std::optional<http::Response> answer;
  const auto code = path_code(page, &answer);
  if (!code) return *answer;
  if (auto r = reason_missing(page)) return *r;
  // An unticked checkbox is not sent at all: no field means no refund.
  const bool refund = page.field("refund") == "1";
  auto desk = desk_of(context);
  const auto result = desk.void_voucher(*code, page.field("reason"), refund, page.actor);
  if (auto r = admin_answer(context, page, result, desk, false)) return *r;
  return redirect(voucher_path(*code) + (refund ? "?done=voided-refunded" : "?done=voided"));
}

http::Response reinstate(Context& context, Page& page) {
  std::optional<http::Response> answer;
  const auto code = path_code(page, &answer);
  if (!code) return *answer;
  if (auto r = reason_missing(page)) return *r;
  auto desk = desk_of(context);
  const auto result = desk.reinstate(*code, page.field("reason"), page.actor);
  if (auto r = admin_answer(context, page, result, desk, true)) return *r;
  return redirect(voucher_path(*code) + "?done=reinstated");
}

// --- actions on a member ---------------------------------------------------------------

// A refused redemption as the member's SMS reply would explain it; nullopt
// for a voucher (new, or the one this request already made).
std::optional<http::Response> redemption_answer(Context& context, const Page& page,
                                                const Redemption& r) {
  const auto l = page.language;
  const auto& campaign = context.config.campaign;
  using S = Redemption::Status;
  switch (r.status) {
    case S::issued:
    case S::already_issued: return std::nullopt;
    case S::insufficient_points:
      return error_page(
          page, 422,
          l == L::zh ? fmt::format("积分不足：{} 档需要 {} 积分，会员现有 {}。", r.tier, r.price, r.balance)
                     : fmt::format("Not enough points: tier {} costs {} points, the member has {}.",
                                   r.tier, r.price, r.balance));
    case S::out_of_stock:
      return error_page(page, 409,
                        l == L::zh ? fmt::format("会员所在城市的 {} 档已兑完。", r.tier)
                                   : fmt::format("None of tier {} is left in the member's city.", r.tier));
    case S::not_started:
      return error_page(page, 422,
                        fmt::format("{} {}", tr(l, "The campaign has not started; it starts",
                                                "活动尚未开始，开始时间"),
                                    context.service.local_time(campaign.start)));
    case S::ended:
      return error_page(page, 422,
                        fmt::format("{} {}", tr(l, "The campaign has ended; it ended",
                                                "活动已结束，结束时间"),
                                    context.service.local_time(campaign.end)));
    case S::unknown_tier: {
      std::string tiers;
      for (const auto& t : campaign.tiers) tiers += (tiers.empty() ? "" : ", ") + t.name;
      return error_page(page, 422,
                        fmt::format("{} {}", tr(l, "No such tier; the tiers are", "没有这个档位，可选档位："),
                                    tiers));
    }
    case S::unknown_member:
      return not_found(page, tr(l, "No member has that phone number.", "没有这个手机号的会员。"));
    case S::failed:
    case S::offered:
    case S::no_offer:
    case S::offer_expired: break;
  }
  return database_failed(context, page, "redeem", r.error);
}

http::Response redeem(Context& context, Page& page) {
  const auto l = page.language;
  db::Status status;
  const auto member = find_member(context, page.param("msisdn"), nullptr, &status);
  if (!status.ok()) return database_failed(context, page, "redeem", status.message);
  if (!member) return not_found(page, tr(l, "No member has that phone number.", "没有这个手机号的会员。"));
  if (auto r = reason_missing(page)) return *r;
  const auto request = page.field("request");
  if (!good_request(request))
    return error_page(page, 400,
                      tr(l, "The form is out of date; open the member's page again. Nothing was done.",
                         "表单已失效，请重新打开会员页面。未做任何更改。"));
  auto desk = desk_of(context);
  // Per agent and member: the same press sent twice redeems once.
  const auto r = desk.redeem_for(
      member->msisdn, page.field("tier"),
      fmt::format("console:{}:{}:{}", page.session.name, member->id, request), page.field("reason"),
      page.actor, page.now);
  if (auto refused = redemption_answer(context, page, r)) return *refused;
  return redirect(member_path(member->msisdn) + "?done=redeemed");
}

// A whole number of points with its sign, not 0.
std::optional<std::int64_t> parse_delta(std::string_view text) {
  const bool plus = !text.empty() && text[0] == '+';
  if (plus) text.remove_prefix(1);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n == 0 ||
      (plus && text[0] == '-'))
    return std::nullopt;
  return n;
}

http::Response correct_points(Context& context, Page& page) {
  const auto l = page.language;
  db::Status status;
  const auto member = find_member(context, page.param("msisdn"), nullptr, &status);
  if (!status.ok()) return database_failed(context, page, "points", status.message);
  if (!member) return not_found(page, tr(l, "No member has that phone number.", "没有这个手机号的会员。"));
  if (auto r = reason_missing(page)) return *r;
  const auto delta = parse_delta(page.field("delta"));
  if (!delta)
    return error_page(page, 400,
                      tr(l, "The points must be a whole number other than 0, like 50 or -50; nothing was done.",
                         "积分必须是非零整数，例如 50 或 -50；未做任何更改。"));
  auto desk = desk_of(context);
  switch (desk.correct_points(member->msisdn, *delta, page.field("reason"), page.actor)) {
    case Ledger::Result::ok: return redirect(member_path(member->msisdn) + "?done=points");
    case Ledger::Result::unknown_member:
      return not_found(page, tr(l, "No member has that phone number.", "没有这个手机号的会员。"));
    case Ledger::Result::out_of_bounds:
      // The ledger's sentence names the bound (in English); nothing changed.
      return error_page(page, 422,
                        fmt::format("{} {}",
                                    tr(l, "Out of bounds, nothing was done:", "超出限制，未做任何更改："),
                                    desk.last_error()));
    case Ledger::Result::invalid: return reason_missing(page).value_or(error_page(page, 400, desk.last_error()));
    case Ledger::Result::duplicate:
    case Ledger::Result::exists:
    case Ledger::Result::failed: break;
  }
  return database_failed(context, page, "points", desk.last_error());
}

}  // namespace

std::vector<Route> desk_routes() {
  return {
      {"GET", "/console/search", DeskAction::look, search},
      {"GET", "/console/members/{msisdn}", DeskAction::look, member_page},
      {"GET", "/console/vouchers/{code}", DeskAction::look, voucher_page},
      {"POST", "/console/vouchers/{code}/resend", DeskAction::resend, resend},
      {"POST", "/console/vouchers/{code}/void", DeskAction::void_voucher, void_voucher},
      {"POST", "/console/vouchers/{code}/reinstate", DeskAction::reinstate, reinstate},
      {"POST", "/console/members/{msisdn}/redeem", DeskAction::redeem, redeem},
      {"POST", "/console/members/{msisdn}/points", DeskAction::correct_points, correct_points},
  };
}

}  // namespace giftgate::console
