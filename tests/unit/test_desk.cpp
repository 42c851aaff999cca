// The service desk's actions (desk.cpp): each needs a reason, records the
// agent who did it, and does nothing twice where it says so.
#include <doctest/doctest.h>

#include "daemon/campaign/desk.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "tests/support/desk_campaign.hpp"

using namespace giftgate;
using giftgate::test::kDeskEn;
using giftgate::test::kDeskZh;
using RS = Redemption::Status;
using Resent = Outbox::Resent::Status;

namespace {

// A well-formed code (its check digit right) that no voucher has.
std::string unknown_code() {
  return std::string("AE1234567") + *giftgate::voucher_check_digit("AE1234567");
}

const Actor kAgent{"console", "alice"};

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("desk: a reason is 1 to 200 printable characters, Chinese counted as characters") {
  CHECK(good_desk_reason("x"));
  CHECK(good_desk_reason("member called, SMS lost"));
  CHECK(good_desk_reason(repeat("短", 200)));  // 600 bytes, 200 characters
  CHECK_FALSE(good_desk_reason(repeat("短", 201)));
  CHECK(good_desk_reason(repeat("a", 200)));
  CHECK_FALSE(good_desk_reason(repeat("a", 201)));
  CHECK_FALSE(good_desk_reason(""));
  CHECK_FALSE(good_desk_reason("line\nbreak"));
  CHECK_FALSE(good_desk_reason("bell\x07"));
  CHECK_FALSE(good_desk_reason("not utf-8 \xff"));
}

TEST_CASE("desk: resend queues the voucher SMS again and records the agent and reason") {
  test::DeskCampaign f;
  const auto code = f.voucher();
  const auto sms = f.count("SELECT id FROM outbox WHERE voucher_code = '" + code + "'");
  REQUIRE(f.db->exec("UPDATE outbox SET state = 'delivered' WHERE id = " + std::to_string(sms)).ok());

  // No reason: nothing queued, nothing recorded.
  auto r = f.desk.resend(code, "", kAgent, f.now);
  CHECK(r.status == Resent::failed);
  CHECK(f.text("SELECT state FROM outbox WHERE id = " + std::to_string(sms)) == "delivered");
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_resend'") == 0);

  r = f.desk.resend(code, "member deleted the SMS", kAgent, f.now);
  INFO(r.error);
  REQUIRE(r.status == Resent::queued);
  CHECK(r.id == sms);
  CHECK(f.text("SELECT state FROM outbox WHERE id = " + std::to_string(sms)) == "queued");
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_resend' AND channel = 'console' "
                "AND actor = 'alice' AND detail = 'member deleted the SMS' AND voucher_code = '" +
                code + "' AND member_id = (SELECT id FROM members WHERE msisdn = '" + kDeskZh +
                "')") == 1);

  // A code no voucher has, a mistyped one, and an outbox id: not found.
  CHECK(f.desk.resend(unknown_code(), "x", kAgent, f.now).status == Resent::not_found);
  std::string typo = code;
  typo[9] = typo[9] == '9' ? '0' : static_cast<char>(typo[9] + 1);
  CHECK(f.desk.resend(typo, "x", kAgent, f.now).status == Resent::not_found);
  CHECK(f.desk.resend(std::to_string(sms), "x", kAgent, f.now).status == Resent::not_found);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_resend'") == 1);
}

TEST_CASE("desk: void refunds (or not), once, with a reason, and reinstate undoes a use") {
  test::DeskCampaign f;
  const auto before = f.balance(kDeskZh);
  const auto code = f.voucher();
  const auto price = f.config.campaign.tier("A")->price;
  CHECK(f.balance(kDeskZh) == before - price);

  CHECK(f.desk.void_voucher(code, "", true, kAgent) == AdminResult::invalid);
  CHECK(f.desk.void_voucher(code, "\x01", true, kAgent) == AdminResult::invalid);
  CHECK(f.state(code) == "issued");

  REQUIRE(f.desk.void_voucher(code, "sold on by mistake", true, kAgent) == AdminResult::ok);
  CHECK(f.state(code) == "void");
  CHECK(f.balance(kDeskZh) == before);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'voucher_voided' AND actor = 'alice' "
                "AND channel = 'console' AND detail LIKE 'sold on by mistake%'") == 1);
  CHECK(f.desk.void_voucher(code, "again", true, kAgent) == AdminResult::wrong_state);
  CHECK(f.balance(kDeskZh) == before);

  const auto kept = f.voucher();
  REQUIRE(f.desk.void_voucher(kept, "fraud", false, kAgent) == AdminResult::ok);
  CHECK(f.balance(kDeskZh) == before - price);
  CHECK(f.desk.void_voucher(unknown_code(), "x", true, kAgent) == AdminResult::unknown_code);

  const auto used = f.voucher();
  CHECK(f.desk.reinstate(used, "x", kAgent) == AdminResult::wrong_state);  // not used
  f.use(used);
  CHECK(f.desk.reinstate(used, "", kAgent) == AdminResult::invalid);
  CHECK(f.state(used) == "used");
  REQUIRE(f.desk.reinstate(used, "till error, not used", kAgent) == AdminResult::ok);
  CHECK(f.state(used) == "issued");
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'voucher_reinstated' AND actor = "
                "'alice' AND detail LIKE 'till error, not used%'") == 1);
  CHECK(f.desk.reinstate(used, "again", kAgent) == AdminResult::wrong_state);
}

TEST_CASE("desk: redeem for a member, once per request, recorded with the agent") {
  test::DeskCampaign f;
  const auto before = f.balance(kDeskZh);
  const auto price = f.config.campaign.tier("A")->price;

  auto r = f.desk.redeem_for(kDeskZh, "A", "console:alice:1:req", "", kAgent, f.now);
  CHECK(r.status == RS::failed);
  CHECK(f.balance(kDeskZh) == before);
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 0);

  r = f.desk.redeem_for(kDeskZh, "A", "console:alice:1:req", "SMS never arrived", kAgent, f.now);
  INFO(r.error);
  REQUIRE(r.status == RS::issued);
  CHECK(f.balance(kDeskZh) == before - price);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE message = 'voucher' AND voucher_code = '" +
                r.code + "'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_redeem' AND actor = 'alice' AND "
                "channel = 'console' AND detail = 'SMS never arrived' AND voucher_code = '" +
                r.code + "'") == 1);

  // The same press again: the same voucher, nothing twice.
  const auto again =
      f.desk.redeem_for(kDeskZh, "A", "console:alice:1:req", "SMS never arrived", kAgent, f.now);
  CHECK(again.status == RS::already_issued);
  CHECK(again.code == r.code);
  CHECK(f.balance(kDeskZh) == before - price);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_redeem'") == 1);

  // The rules' refusals come through as they are.
  CHECK(f.desk.redeem_for(kDeskEn, "A", "r2", "x", kAgent, f.now).status ==
        RS::insufficient_points);
  CHECK(f.desk.redeem_for(kDeskZh, "Z", "r3", "x", kAgent, f.now).status == RS::unknown_tier);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_redeem'") == 1);
}

TEST_CASE("desk: correct points within the campaign's bounds, with the agent and reason") {
  test::DeskCampaign f;
  const auto before = f.balance(kDeskEn);
  CHECK(f.desk.correct_points(kDeskEn, 50, "", kAgent) == Ledger::Result::invalid);
  CHECK(f.desk.correct_points(kDeskEn, 0, "nothing", kAgent) == Ledger::Result::invalid);
  CHECK(f.balance(kDeskEn) == before);

  REQUIRE(f.desk.correct_points(kDeskEn, 50, "goodwill", kAgent) == Ledger::Result::ok);
  CHECK(f.balance(kDeskEn) == before + 50);
  CHECK(f.count("SELECT COUNT(*) FROM ledger WHERE delta = 50 AND reason = 'correction: goodwill'") ==
        1);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'points' AND actor = 'alice' AND "
                "channel = 'console' AND detail LIKE '%goodwill%'") == 1);

  // Below 0, past max_change, past max_balance: refused, nothing changed.
  CHECK(f.desk.correct_points(kDeskEn, -(before + 51), "too many", kAgent) ==
        Ledger::Result::out_of_bounds);
  CHECK_FALSE(f.desk.last_error().empty());
  const auto& limits = f.config.campaign.points;
  CHECK(f.desk.correct_points(kDeskEn, limits.max_change + 1, "typo", kAgent) ==
        Ledger::Result::out_of_bounds);
  CHECK(f.desk.correct_points(kDeskEn, limits.max_change, "at the bound", kAgent) ==
        Ledger::Result::ok);
  CHECK(f.balance(kDeskEn) == before + 50 + limits.max_change);
  CHECK(f.desk.correct_points(kDeskEn, -limits.max_change, "back", kAgent) == Ledger::Result::ok);
  CHECK(f.desk.correct_points(kDeskEn, -(before + 50), "to zero", kAgent) == Ledger::Result::ok);
  CHECK(f.balance(kDeskEn) == 0);
  CHECK(f.desk.correct_points("8613000000000", 5, "x", kAgent) == Ledger::Result::unknown_member);
}
