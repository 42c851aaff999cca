// Complaints in the console: the list of open ones by age, one complaint
// with its notes, and the forms that open, note and close one. Every rule
// (categories, outcomes, a closed complaint taking nothing more) is
// Complaints'; this file reads the forms and writes HTML. The frame has
// checked the session, the CSRF token and may() before a handler runs.
#include <charconv>

#include <fmt/format.h>

#include "daemon/campaign/complaints.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "daemon/console/console.hpp"
#include "daemon/console/html.hpp"

namespace giftgate::console {
namespace {

using L = Language;

std::string_view category_label(std::string_view c, L l) {
  if (c == "not_received") return tr(l, "Voucher SMS not received", "未收到券短信");
  if (c == "not_accepted") return tr(l, "Merchant did not accept the code", "商户不认券");
  if (c == "wrong_points") return tr(l, "Points wrong", "积分有误");
  if (c == "expired") return tr(l, "Voucher expired", "券已过期");
  if (c == "merchant") return tr(l, "About a merchant", "对商户的投诉");
  if (c == "other") return tr(l, "Other", "其他");
  return c;
}

std::string_view outcome_label(std::string_view o, L l) {
  if (o == "resolved") return tr(l, "Resolved", "已解决");
  if (o == "compensated") return tr(l, "Compensated", "已补偿");
  if (o == "rejected") return tr(l, "Rejected", "不予受理");
  if (o == "duplicate") return tr(l, "Duplicate", "重复投诉");
  return o;
}

// "5 h" or "3 d": how long a complaint has been waiting.
std::string age_text(std::string_view hours_text, L l) {
  long hours = 0;
  std::from_chars(hours_text.data(), hours_text.data() + hours_text.size(), hours);
  if (hours < 48) return fmt::format("{} {}", hours, tr(l, "h", "小时"));
  return fmt::format("{} {}", hours / 24, tr(l, "d", "天"));
}

std::string complaint_path(std::string_view id) { return fmt::format("/console/complaints/{}", id); }

http::Response database_failed(Context& context, const Page& page, std::string_view what,
                               std::string_view error) {
  context.log.error("console_database_failed",
                    {{"what", what}, {"agent", page.session.name}, {"error", error}});
  return database_page(page, what);
}

// Complaints (Complaints::list's columns) as a table linking each to its page.
std::string complaints_table(const Table& t, std::string_view id, L l) {
  if (t.rows.empty())
    return fmt::format("<p class=\"empty\" id=\"{}\">{}</p>\n", escape(id),
                       escape(tr(l, "No complaints.", "没有投诉。")));
  const auto col = [&](std::string_view name) {
    for (std::size_t i = 0; i < t.columns.size(); ++i)
      if (t.columns[i] == name) return i;
    return t.columns.size();
  };
  const auto cell = [&](const std::vector<std::string>& row, std::string_view name) -> std::string {
    const auto i = col(name);
    return i < row.size() ? row[i] : std::string();
  };
  std::string out = fmt::format(
      "<table id=\"{}\">\n<thead><tr><th class=\"n\">#</th><th>{}</th><th>{}</th><th>{}</th>"
      "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th></tr></thead>\n<tbody>\n",
      escape(id), escape(tr(l, "Opened", "登记时间")), escape(tr(l, "Age", "已等待")),
      escape(tr(l, "Member", "会员")), escape(tr(l, "Voucher", "券码")),
      escape(tr(l, "Category", "类别")), escape(tr(l, "State", "状态")),
      escape(tr(l, "Opened by", "登记人")), escape(tr(l, "Outcome", "结果")),
      escape(tr(l, "Notes", "备注")));
  for (const auto& row : t.rows) {
    const auto cid = cell(row, "id");
    const auto msisdn = cell(row, "msisdn");
    const auto voucher = cell(row, "voucher");
    const auto state = cell(row, "state");
    out += fmt::format(
        "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
        link(complaint_path(cid), cid), escape(cell(row, "opened_at")),
        escape(state == "open" ? age_text(cell(row, "age_hours"), l) : std::string("-")),
        link("/console/members/" + path_segment(msisdn), msisdn),
        voucher.empty() ? std::string() : link("/console/vouchers/" + path_segment(voucher), voucher),
        escape(category_label(cell(row, "category"), l)),
        escape(state == "open" ? tr(l, "open", "处理中") : tr(l, "closed", "已结案")),
        escape(cell(row, "opened_by")), escape(outcome_label(cell(row, "outcome"), l)),
        escape(cell(row, "notes")));
  }
  return out + "</tbody>\n</table>\n";
}

std::string select_of(std::string_view name, const std::vector<std::string_view>& values,
                      std::string_view (*label)(std::string_view, L), L l) {
  std::string out = fmt::format("<select name=\"{}\" required>", escape(name));
  for (const auto v : values)
    out += fmt::format("<option value=\"{}\">{}</option>", escape(v), escape(label(v, l)));
  return out + "</select>";
}

std::string_view done_text(std::string_view word, L l) {
  if (word == "noted") return tr(l, "The note is added.", "备注已添加。");
  if (word == "closed") return tr(l, "The complaint is closed.", "投诉已结案。");
  return {};
}

// The id in the path, or nullopt (then the page is a 404).
std::optional<std::int64_t> path_id(const Page& page) {
  const auto text = page.param("id");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

http::Response no_such_complaint(const Page& page) {
  return console::page(page, 404, tr(page.language, "Not found", "未找到"),
                       fmt::format("<p class=\"error\" id=\"not-found\">{}</p>\n",
                                   escape(tr(page.language, "No such complaint.", "没有这个投诉。"))));
}

// A refusal of Complaints' as the page that says why.
http::Response refused(Context& context, const Page& page, Complaints::Result r, std::string_view what) {
  const auto l = page.language;
  using R = Complaints::Result;
  switch (r) {
    case R::ok: break;
    case R::unknown_member:
      return error_page(page, 404, tr(l, "No member with that number; nothing was recorded.",
                                      "没有这个号码的会员，未登记。"));
    case R::unknown_voucher:
      return error_page(page, 404, tr(l, "That voucher is not this member's; nothing was recorded.",
                                      "该券不属于这位会员，未登记。"));
    case R::unknown: return no_such_complaint(page);
    case R::invalid:
      return error_page(page, 400,
                        tr(l, "A category (or outcome) from the list and a text of 1 to 2,000 characters "
                              "are needed; nothing was recorded.",
                           "须从列表中选择类别（或结果），并填写 1 到 2000 字的内容，未登记。"));
    case R::wrong_state:
      return error_page(page, 409, tr(l, "This complaint is closed: it takes no more notes; nothing was done.",
                                      "该投诉已结案，不能再添加内容，未做任何更改。"));
    case R::failed: break;
  }
  return database_failed(context, page, what, "see the database's log");
}

http::Response list(Context& context, Page& page) {
  const auto l = page.language;
  std::string state(page.get("state"));
  if (state.empty()) state = "open";
  if (state != "open" && state != "closed" && state != "all")
    return error_page(page, 400, tr(l, "state: open, closed or all", "状态：open、closed 或 all"));
  std::string error;
  const auto t = Complaints(context.db).list(state, page.now, &error);
  if (!t) return database_failed(context, page, "complaints", error);
  std::string body = "<p>";
  for (const auto& [s, label] : {std::pair{"open", tr(l, "Open, oldest first", "处理中（最早的在前）")},
                                 std::pair{"closed", tr(l, "Closed", "已结案")},
                                 std::pair{"all", tr(l, "All", "全部")}})
    body += (state == s ? "<strong>" + escape(label) + "</strong>"
                        : link(fmt::format("/console/complaints?state={}", s), label)) + " ";
  body += "</p>\n" + complaints_table(*t, "complaints-table", l);
  return console::page(page, 200, tr(l, "Complaints", "投诉"), body);
}

http::Response open(Context& context, Page& page) {
  const auto l = page.language;
  const auto msisdn = normalize_msisdn(page.field("msisdn"), context.config.default_country);
  if (!msisdn)
    return error_page(page, 400, tr(l, "Not a phone number; nothing was recorded.", "不是有效的手机号，未登记。"));
  std::optional<std::string> voucher;
  if (!page.field("voucher").empty()) {
    std::string canonical;
    if (check_voucher_code(page.field("voucher"), &canonical) != CodeCheck::ok)
      return error_page(page, 400, tr(l, "The voucher code is mistyped (its check digit does not match); "
                                         "nothing was recorded.",
                                      "券码有误（校验位不符），未登记。"));
    voucher = canonical;
  }
  std::int64_t id = 0;
  const auto r = Complaints(context.db).open(*msisdn, voucher, page.field("category"), page.field("text"),
                                             page.actor, page.now, &id);
  if (r != Complaints::Result::ok) return refused(context, page, r, "complaint open");
  return redirect(complaint_path(std::to_string(id)));
}

http::Response show(Context& context, Page& page) {
  const auto l = page.language;
  const auto id = path_id(page);
  if (!id) return no_such_complaint(page);
  Complaints complaints(context.db);
  db::Status status;
  const auto c = complaints.get(*id, &status);
  if (!status.ok()) return database_failed(context, page, "complaint", status.message);
  if (!c) return no_such_complaint(page);
  std::string error;
  const auto notes = complaints.notes(*id, &error);
  if (!notes) return database_failed(context, page, "complaint notes", error);

  std::string body;
  if (const auto done = done_text(page.get("done"), l); !done.empty())
    body += fmt::format("<p class=\"done\" id=\"done\">{}</p>\n", escape(done));
  body += fmt::format("<section id=\"complaint\">\n<table>\n");
  const auto row = [&](std::string_view label, const std::string& html) {
    body += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape(label), html);
  };
  row(tr(l, "Member", "会员"), link("/console/members/" + path_segment(c->msisdn), c->msisdn));
  if (c->voucher_code)
    row(tr(l, "Voucher", "券码"), link("/console/vouchers/" + path_segment(*c->voucher_code), *c->voucher_code));
  row(tr(l, "Category", "类别"), escape(category_label(c->category, l)));
  row(tr(l, "State", "状态"), escape(c->state == "open" ? tr(l, "open", "处理中") : tr(l, "closed", "已结案")));
  row(tr(l, "Opened", "登记"), escape(c->opened_at + " · " + c->opened_by));
  if (c->closed_at)
    row(tr(l, "Closed", "结案"), escape(*c->closed_at + " · " + c->closed_by.value_or("") + " · ") +
                                     escape(outcome_label(c->outcome.value_or(""), l)));
  body += "</table>\n<h2>" + escape(tr(l, "The member's words", "会员所述")) + "</h2>\n";
  body += fmt::format("<p class=\"text\" id=\"complaint-text\">{}</p>\n</section>\n", escape(c->text));

  body += "<section id=\"notes\">\n<h2>" + escape(tr(l, "Notes", "备注")) + "</h2>\n";
  if (notes->empty()) {
    body += fmt::format("<p class=\"empty\" id=\"notes-table\">{}</p>\n", escape(tr(l, "No notes yet.", "暂无备注。")));
  } else {
    body += fmt::format("<table id=\"notes-table\">\n<thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
                        escape(tr(l, "When", "时间")), escape(tr(l, "Who", "记录人")), escape(tr(l, "Note", "备注")));
    for (const auto& n : *notes)
      body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", escape(n.at), escape(n.by), escape(n.text));
    body += "</tbody>\n</table>\n";
  }
  body += "</section>\n";

  if (c->state == "open") {
    const auto path = complaint_path(std::to_string(*id));
    body += post_form(page, path + "/notes", "add-note",
                      fmt::format("<label>{} <textarea name=\"text\" required maxlength=\"2000\" rows=\"3\" "
                                  "cols=\"60\"></textarea></label> ",
                                  escape(tr(l, "Note", "备注"))),
                      tr(l, "Add the note", "添加备注"));
    body += post_form(page, path + "/close", "close-complaint",
                      fmt::format("<label>{} {}</label> <label>{} <input type=\"text\" name=\"text\" "
                                  "maxlength=\"2000\" size=\"50\"></label> ",
                                  escape(tr(l, "Outcome", "结果")),
                                  select_of("outcome", complaint_outcomes(), outcome_label, l),
                                  escape(tr(l, "What was done", "处理说明"))),
                      tr(l, "Close the complaint", "结案"));
  }
  return console::page(page, 200, fmt::format("{} #{}", tr(l, "Complaint", "投诉"), *id), body);
}

http::Response note(Context& context, Page& page) {
  const auto id = path_id(page);
  if (!id) return no_such_complaint(page);
  const auto r = Complaints(context.db).add_note(*id, page.field("text"), page.actor, page.now);
  if (r != Complaints::Result::ok) return refused(context, page, r, "complaint note");
  return redirect(complaint_path(std::to_string(*id)) + "?done=noted");
}

http::Response close(Context& context, Page& page) {
  const auto id = path_id(page);
  if (!id) return no_such_complaint(page);
  const auto r = Complaints(context.db).close(*id, page.field("outcome"), page.field("text"), page.actor,
                                              page.now);
  if (r != Complaints::Result::ok) return refused(context, page, r, "complaint close");
  return redirect(complaint_path(std::to_string(*id)) + "?done=closed");
}

}  // namespace

std::vector<Route> complaint_routes() {
  return {
      {"GET", "/console/complaints", DeskAction::look, list},
      {"POST", "/console/complaints", DeskAction::complaint, open},
      {"GET", "/console/complaints/{id}", DeskAction::look, show},
      {"POST", "/console/complaints/{id}/notes", DeskAction::complaint, note},
      {"POST", "/console/complaints/{id}/close", DeskAction::complaint, close},
  };
}

std::string open_complaint_form(const Page& page, std::string_view msisdn,
                                const std::optional<std::string>& voucher_code) {
  const auto l = page.language;
  std::string inner = fmt::format("<input type=\"hidden\" name=\"msisdn\" value=\"{}\">", escape(msisdn));
  if (voucher_code)
    inner += fmt::format("<input type=\"hidden\" name=\"voucher\" value=\"{}\">", escape(*voucher_code));
  inner += fmt::format(
      "<label>{} {}</label> <label>{} <textarea name=\"text\" required maxlength=\"2000\" rows=\"2\" "
      "cols=\"50\"></textarea></label> ",
      escape(tr(l, "Category", "类别")), select_of("category", complaint_categories(), category_label, l),
      escape(tr(l, "The member's words", "会员所述")));
  return fmt::format("<fieldset><legend>{}</legend>\n{}</fieldset>\n",
                     escape(voucher_code ? tr(l, "Open a complaint on this voucher", "就此券登记投诉")
                                         : tr(l, "Open a complaint", "登记投诉")),
                     post_form(page, "/console/complaints", "open-complaint", inner,
                               tr(l, "Record the complaint", "登记")));
}

std::string member_complaints(Context& context, const Page& page, std::int64_t member_id) {
  std::string error;
  const auto t = Complaints(context.db).of_member(member_id, page.now, &error);
  if (!t) {
    context.log.error("console_database_failed", {{"what", "member complaints"}, {"error", error}});
    return fmt::format("<p class=\"error\">{}</p>\n",
                       escape(tr(page.language, "The complaints could not be read; reload the page.",
                                 "无法读取投诉，请刷新页面。")));
  }
  return complaints_table(*t, "member-complaints", page.language);
}

}  // namespace giftgate::console
