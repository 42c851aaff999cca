// The table's rows of the channels and bulk: USSD, retention, pushes,
// reminders and the website's sign-in.
#include "daemon/config/settings_rows.hpp"

#include "daemon/config/setting_kinds.hpp"

namespace giftgate {
using namespace setting_kinds;

void add_channel_settings(std::vector<Setting>& t) {
  constexpr auto applied = Reload::applied;
  // USSD: the menus are loaded again with the templates, the rest is read
  // at each step.
  t.push_back(flag("ussd.enabled", true, applied, "Serve dialled sessions.",
                   [](auto& c) -> auto& { return c.ussd.enabled; }));
  t.push_back(text("ussd.service_code", "*12580#", "a code like *12580#", applied,
                   "What members dial.",
                   [](auto& c) -> auto& { return c.ussd.service_code; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.ussd.service_code = v;
                     if (v.size() < 3 || v.front() != '*' || v.back() != '#' ||
                         v.find_first_not_of("0123456789*", 0) != v.size() - 1)
                       return std::string("service_code must look like *12580#");
                     return std::string();
                   }));
  t.push_back(plain_text("ussd.menus", "/etc/giftgate/menus.yaml", "a path", applied,
                         "The USSD screens file.",
                         [](auto& c) -> auto& { return c.ussd.menus_path; }, 1));
  t.push_back(number("ussd.session_timeout_seconds", 60, 5, 3600, applied,
                     "A session left this long without an answer is over.",
                     [](auto& c) -> auto& { return c.ussd.session_timeout; }));
  t.push_back(ussd_op("ussd.operations.begin", "pssr_indication", "The member dialled.",
                      [](auto& c) -> auto& { return c.ussd.op_begin; }));
  t.push_back(ussd_op("ussd.operations.continue", "ussr_confirm", "The member answered a menu.",
                      [](auto& c) -> auto& { return c.ussd.op_continue; }));
  t.push_back(ussd_op("ussd.operations.menu", "ussr_request",
                      "A menu from us: the session goes on.",
                      [](auto& c) -> auto& { return c.ussd.op_menu; }));
  t.push_back(ussd_op("ussd.operations.end", "pssr_response",
                      "A last text from us: the session ends.",
                      [](auto& c) -> auto& { return c.ussd.op_end; }));
  t.push_back(ussd_op("ussd.operations.abort", "0x81", "The centre ended the session.",
                      [](auto& c) -> auto& { return c.ussd.op_abort; }));
  t.push_back(number("ussd.max_chars_gsm", 182, 20, 182, applied,
                     "GSM characters one screen holds.",
                     [](auto& c) -> auto& { return c.ussd.max_chars_gsm; }));
  t.push_back(number("ussd.max_chars_ucs2", 80, 10, 91, applied,
                     "UCS-2 characters one screen holds.",
                     [](auto& c) -> auto& { return c.ussd.max_chars_ucs2; }));

  // Read by each prune batch: a reload applies it to the next one.
  const auto days = [&t](const char* name, std::int64_t def, std::string help, auto get) {
    t.push_back(number(fmt::format("retention.{}", name), def, 0, 36500, applied,
                       std::move(help), get));
  };
  days("message_days", 90,
       "Days after a message's final state that its body is blanked; past this and "
       "receipt_days its row moves to message_history, its final state kept. 0: never.",
       [](auto& c) -> auto& { return c.retention.message_days; });
  days("receipt_days", 90,
       "Days after which receipts, and a final message's parts, are deleted. 0: never.",
       [](auto& c) -> auto& { return c.retention.receipt_days; });
  days("inbox_days", 90,
       "Days after which MOs are deleted; at least 2, since the daily limits count the last "
       "day's MOs and redelivery detection looks back mo_dedupe_seconds. 0: never.",
       [](auto& c) -> auto& { return c.retention.inbox_days; });
  days("ussd_days", 30,
       "Days after which ended USSD sessions and their screens (without a voucher) are "
       "deleted. 0: never.",
       [](auto& c) -> auto& { return c.retention.ussd_days; });
  t.push_back(number("retention.batch_rows", 500, 10, 100000, applied,
                     "Rows one prune batch may look at (one short transaction).",
                     [](auto& c) -> auto& { return c.retention.batch_rows; }));
  t.push_back(number("retention.batch_interval_ms", 1000, 10, 3600000, applied,
                     "How often giftgated runs a prune batch while it is quiet.",
                     [](auto& c) -> auto& { return c.retention.batch_interval; }));

  // Pushes and reminders: read by the daemon's push step each time.
  const auto hours = [&t](std::string name, std::string def, std::string help, auto get) {
    t.push_back(text(std::move(name), def, "a daily span like 21:00-09:00 (equal ends: none)",
                     applied, std::move(help), get,
                     [get](Config& c, const std::string& v, const std::string& key) {
                       const auto h = parse_daily_hours(v);
                       if (!h)
                         return fmt::format("{} must be a span like 21:00-09:00, not '{}'", key, v);
                       get(c) = *h;
                       return std::string();
                     }));
  };
  hours("pushes.quiet_hours", "21:00-09:00",
        "Wall-clock hours, in campaign.time_zone, in which no push is sent; a push resumes after.",
        [](auto& c) -> auto& { return c.pushes.quiet; });
  t.push_back(number("pushes.member_interval_hours", 72, 0, 8760, applied,
                     "At most one push per member within this many hours, across pushes; a "
                     "member whose turn comes sooner is skipped (too_soon). 0: no limit.",
                     [](auto& c) -> auto& { return c.pushes.member_interval_hours; }));
  t.push_back(number("pushes.rate", 0, 0, 100000, applied,
                     "Messages a second for a push created without --rate; 0: as fast as the "
                     "capacity replies leave allows.",
                     [](auto& c) -> auto& { return c.pushes.rate; }));
  t.push_back(number("pushes.batch", 500, 10, 100000, applied,
                     "Members one step selects or queues (one short transaction).",
                     [](auto& c) -> auto& { return c.pushes.batch; }));
  t.push_back(number("pushes.max_queued", 2000, 10, 1000000, applied,
                     "A push's messages waiting in the outbox at most; the rest wait their turn "
                     "as members, so pause, opt-out and --until act on them.",
                     [](auto& c) -> auto& { return c.pushes.max_queued; }));
  t.push_back(flag("reminders.enabled", true, applied,
                   "Remind members of an unused voucher before it expires (once per voucher).",
                   [](auto& c) -> auto& { return c.reminders.enabled; }));
  t.push_back(number("reminders.days_before", 3, 1, 365, applied,
                     "Days before a voucher's expiry that its reminder is queued.",
                     [](auto& c) -> auto& { return c.reminders.days_before; }));
  hours("reminders.hours", "10:00-20:00",
        "Wall-clock hours, in campaign.time_zone, in which reminders are queued.",
        [](auto& c) -> auto& { return c.reminders.hours; });
  t.push_back(flag("reminders.respect_opt_out", false, applied,
                   "Whether a member who opted out of care messages (TD) gets no reminders; "
                   "false: they do, since it is about their own voucher.",
                   [](auto& c) -> auto& { return c.reminders.respect_opt_out; }));

  // The website's sign-in is read at each request: a reload applies it.
  t.push_back(number("web.code_minutes", 5, 1, 60, applied,
                     "How long a sign-in code sent by SMS is good.",
                     [](auto& c) -> auto& { return c.web.code_minutes; }));
  t.push_back(number("web.code_attempts", 5, 1, 20, applied,
                     "Wrong tries of a code before it is locked.",
                     [](auto& c) -> auto& { return c.web.code_attempts; }));
  t.push_back(number("web.codes_per_number_per_hour", 3, 1, 100, applied,
                     "Sign-in codes sent to one number in an hour at most.",
                     [](auto& c) -> auto& { return c.web.codes_per_number_per_hour; }));
  t.push_back(number("web.codes_per_address_per_hour", 20, 1, 100000, applied,
                     "Sign-in codes asked for from one client address in an hour at most.",
                     [](auto& c) -> auto& { return c.web.codes_per_address_per_hour; }));
  t.push_back(number("web.token_minutes", 15, 1, 1440, applied,
                     "How long a member token from a code is good.",
                     [](auto& c) -> auto& { return c.web.token_minutes; }));

  // The console's sign-in is read at each request: a reload applies it.
  t.push_back(number("console.max_failures", 5, 1, 100, applied,
                     "Wrong passwords in a row before an agent's account is locked.",
                     [](auto& c) -> auto& { return c.console.max_failures; }));
  t.push_back(number("console.lock_minutes", 15, 1, 1440, applied,
                     "How long a locked account stays locked (even the right password is refused).",
                     [](auto& c) -> auto& { return c.console.lock; }));
  t.push_back(number("console.idle_minutes", 30, 1, 1440, applied,
                     "A console session with no request this long ends.",
                     [](auto& c) -> auto& { return c.console.idle; }));
  t.push_back(number("console.session_max_minutes", 720, 5, 10080, applied,
                     "A console session ends this long after its sign-in, however busy.",
                     [](auto& c) -> auto& { return c.console.absolute; }));
}

}  // namespace giftgate
