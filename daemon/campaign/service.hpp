// The campaign's answer to one member's or merchant's SMS: reads the
// request, does what it asks (balance, redeem, confirm, vouchers,
// merchants, opt out or in, verify), and queues the replies in the outbox,
// all in one transaction. The caller acknowledges the MO to the SMSC only
// after handle() has returned done or duplicate: then the MO and all it
// caused are on disk. Knows nothing of PDUs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/limits.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/storage/sqlite.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/campaign/ussd_menus.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

struct Mo {
  std::string key;     // unique to this delivery of an MO
  std::string msisdn;  // the sender, normal form
  std::string text;    // UTF-8, reassembled
  std::string channel = "sms";
  Time now{};
  // For recognising a redelivery (see mo_fingerprint); empty: never one.
  std::string fingerprint;
  std::string epoch;  // the connection it came on: process and bind
  // Where it came from, as the gateway names it ("SMSCID" or "SMSCID#BIND"):
  // stored on every message it causes (outbox.route). Empty: none. (With
  // {}, so that a brace list that ends before it need not name it.)
  std::string route{};
};

// One step of a USSD session, as the daemon read it from the centre.
struct UssdMo {
  enum class Step { begin, answer, abort };
  std::string key;      // unique to this delivery
  std::string msisdn;   // normal form
  std::string text;     // what was dialled (begin) or answered
  Time now{};
  Step step = Step::begin;
  std::string session_key;  // the centre's session (empty: one per number)
  // The request's session info, echoed in the answer
  // (smpp::ussd_session_text).
  std::string request_session;
  // Session, sequence and text: the same step delivered again has the same
  // fingerprint. Empty when the centre sends no session info.
  std::string fingerprint;
  // Where it came from (see Mo::route); its screens are answered only
  // through it. Empty: none.
  std::string route;
};

struct UssdOutcome {
  enum class Status { done, duplicate, failed };
  Status status = Status::failed;
  Overrun overrun = Overrun::none;  // a limit it ran into: recorded, nothing done
  std::string screen;  // the screen's name (main, balance, ...); empty for an abort
  bool ended = false;  // the session is over
  std::vector<std::string> messages;  // SMS queued besides the screen (voucher, my_vouchers)
  std::string error;
};

struct MoOutcome {
  enum class Status {
    // Handled. Its changes are committed, or, inside a caller's open
    // transaction (giftgated's batch), kept for that commit: acknowledge
    // once it is on disk.
    done,
    duplicate,  // handled before: acknowledge, nothing changed
    failed,     // nothing kept (database busy or full): do not acknowledge
  };
  Status status = Status::failed;
  Command command = Command::help;
  Overrun overrun = Overrun::none;  // a limit it ran into: recorded, nothing done
  std::string verify_failure;  // a merchant whose failed verification this counted
  bool merchant_locked = false;  // ... and which it locked out
  std::vector<std::int64_t> replies;  // outbox ids queued
  std::vector<std::string> messages;  // their template names (for metrics)
  std::string error;
};

// What a redelivery of an MO has in common with the first delivery: the
// sender, the receiving address and the text. An SMSC delivers an MO again
// only when our answer did not reach it, which means the connection was
// lost (or the daemon stopped) in between; so the same fingerprint within
// the dedupe window from an earlier epoch (connection) is a redelivery,
// and from the same epoch a member sending the same text again.
std::string mo_fingerprint(const std::string& msisdn, const std::string& destination,
                           const std::string& text);

class Service {
 public:
  Service(db::Database& db, const CampaignConfig& config, std::shared_ptr<const Templates> templates);

  // How long a repeat from an earlier connection counts as a redelivery.
  void set_dedupe_window(std::chrono::seconds window) { dedupe_window_ = window; }

  MoOutcome handle(const Mo& mo);

  // A USSD step: the session's next screen, and what a confirmed choice
  // causes, committed together with the session's new place (or nothing).
  // Needs menus (set_menus); see service_ussd.cpp.
  UssdOutcome handle_ussd(const UssdMo& mo);
  void set_menus(std::shared_ptr<const UssdMenus> menus) { menus_ = std::move(menus); }
  // Ends sessions left unanswered past their time; how many.
  int expire_ussd_sessions(Time now);

  // A reload's campaign (the config it reads by reference changed with it).
  void set_campaign(const Campaign& campaign) { vouchers_.set_campaign(campaign); }

  // New templates (reload): queued messages keep the text they were given.
  void set_templates(std::shared_ptr<const Templates> templates) { templates_ = std::move(templates); }

  // "2026-12-25 13:26" in the campaign's zone, as members read times.
  std::string local_time(Time t) const;
  std::string local_time(const std::string& iso) const;

  // --- other channels (the HTTP API): the same rules as the SMS ones ---

  // A merchant's terminal (API key `terminal`, bound to `merchant_id`)
  // presents a code: the rules of an SMS verification (disabled merchant,
  // lock-out, format, check digit, unknown, used, voided, expired, wrong
  // city), failures counted against the merchant's guard as a number's are
  // and recorded with the terminal's name ("api:NAME"); when used, the
  // owner's voucher_used_note is queued in the same transaction. Its own
  // transaction, or a savepoint in the caller's.
  Verification verify_at_terminal(std::string_view merchant_id, std::string_view terminal,
                                  std::string_view typed_code, const Actor& actor, Time now);

  // Redeems `tier` for the member with that number on another channel (the
  // website, the desk on the member's behalf): the rules of an SMS redeem
  // without the confirmation step. `request` makes it idempotent: the same
  // request again returns the same voucher (already_issued) and queues
  // nothing twice. The voucher SMS is queued in the same transaction.
  Redemption redeem_for(std::string_view msisdn, std::string_view tier, const std::string& request,
                        const Actor& actor, Time now);

  // An SMS no MO asked for (a web sign-in code, say): `message` rendered
  // in `language` with `values`, queued at a reply's priority in the
  // caller's transaction; its outbox id in *id.
  db::Status notify(const std::string& msisdn, std::optional<std::int64_t> member_id,
                    const std::string& language, const std::string& message,
                    const TemplateValues& values, Time now, std::int64_t* id = nullptr);

  const Vouchers& vouchers() const { return vouchers_; }

 private:
  // A USSD screen's answer: the operation (menu or end), the request's
  // session to echo (smpp::ussd_session_text), and when it is no use any more.
  struct UssdAnswer {
    std::uint8_t op = 0;
    std::string session;
    Time expires{};
  };
  struct Reply {
    std::string msisdn;
    std::optional<std::int64_t> member_id;
    std::string message;
    std::string language;
    TemplateValues values;
    std::optional<std::string> voucher_code;
    std::optional<std::string> body;      // as given, instead of the SMS template
    std::optional<UssdAnswer> ussd;       // a USSD screen, not an SMS
  };
  // Writes one reply to the outbox (in the caller's transaction), with the
  // MO that caused it and that MO's route (nullopt and empty: none, as for
  // notify()).
  db::Status queue(const Reply& reply, std::optional<std::int64_t> inbox_id, Time now,
                   const std::string& route);
  // The "voucher" SMS's values for a redemption, on every channel alike.
  TemplateValues voucher_values(const Redemption& r) const;
  // Adds the owner's voucher_used_note for a used voucher to `replies`
  // (none when the owner is gone); failed when the database could not say
  // who the owner or the merchant is.
  db::Status add_used_note(const Verification& v, Time now, std::vector<Reply>& replies);
  // What the request does, and its replies (inside handle's transaction);
  // failed, with out.error, when the database refused.
  std::vector<Reply> answer(const Mo& mo, std::int64_t inbox_id, const Request& request,
                            const std::optional<Member>& member, MoOutcome& out, bool& failed);
  std::string tiers_list(const std::string& language) const;
  // The member's unused vouchers, one voucher_line each; nullopt, with
  // `error`, when the database failed.
  std::optional<std::vector<std::string>> voucher_lines(std::int64_t member_id,
                                                        const std::string& language, Time now,
                                                        std::string& error) const;
  // How a list is cut into SMS-sized pages: unpaged (the first page only),
  // or page `page` with {more} filled from the `more` entry (pages follow)
  // or the `last` one (the last of several).
  struct Paging {
    int page;
    std::string more;  // empty: unpaged
    std::string last;
  };
  static Paging voucher_pages(int page) { return {page, "vouchers_more", "vouchers_last"}; }
  // `values` plus the list placeholder filled with one page of `lines`: as
  // many as fit in the configured SMS parts (at least one), and {more}.
  TemplateValues fit_list(const std::string& message, const std::string& language,
                          TemplateValues values, const std::string& list_name,
                          const std::vector<std::string>& lines, const Paging& paging = {1, {}, {}}) const;

  struct UssdSession;
  struct Screen;
  Screen ussd_step(UssdSession& session, const std::string& input, const Member& member,
                   const UssdMo& mo, std::int64_t inbox_id, std::vector<Reply>& sms,
                   std::string& error);
  // (An empty name, with `error`, when the database failed.)
  Screen ussd_merchants_page(UssdSession& session, const Member& member, std::string& error);

  db::Database& db_;
  const CampaignConfig& config_;
  std::shared_ptr<const Templates> templates_;
  std::shared_ptr<const UssdMenus> menus_;
  Vouchers vouchers_;
  std::chrono::seconds dedupe_window_{120};
};

}  // namespace giftgate
