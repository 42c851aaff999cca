// A campaign for the service desk's tests (Desk, the console's desk pages):
// three members, three merchants (one with HTML in its name), stock of A
// and C in Beijing, the shipped templates, a day into the campaign.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "daemon/campaign/desk.hpp"
#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

namespace giftgate::test {

inline const std::string kDeskZh = "8613800138000";  // 12000 points, Beijing, Chinese
inline const std::string kDeskEn = "8613900000001";  // 3000 points, Beijing, English
inline const std::string kDeskMerchantPhone = "8613911111111";  // bj-1

struct DeskCampaign {
  TempDir dir;
  std::unique_ptr<db::Database> db = open_campaign_db(dir.file("c.db"));
  Config config = campaign_config();
  std::shared_ptr<const Templates> templates = shipped_templates();
  Service service{*db, config, templates};
  Outbox outbox{*db, ResendPolicy{}};
  Desk desk{*db, config, service, outbox};
  Time now = config.campaign.start + std::chrono::hours(24);
  int sequence = 0;

  DeskCampaign() {
    Importer importer(*db, config, {"import", "t"});
    REQUIRE(importer
                .members("msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                         "13900000001,beijing,en,3000\n13700000001,shanghai,zh,9000\n",
                         "m.csv")
                .status == ImportResult::Status::ok);
    REQUIRE(importer
                .merchants("id,name,city,kind,level,phones,offer_a,offer_c\n"
                           "bj-1,<b>Star</b> KTV & Bar,beijing,ktv,high,13911111111,5 hours,1 hour\n"
                           "bj-2,Sky Cinema,beijing,cinema,low,13911111112,8 tickets,\n"
                           "sh-1,Bund KTV,shanghai,ktv,high,13911111113,5 hours,1 hour\n",
                           "s.csv")
                .status == ImportResult::Status::ok);
    Vouchers v(*db, config.campaign);
    REQUIRE(v.set_stock("A", "beijing", 5, {"giftctl", "t"}));
    REQUIRE(v.set_stock("C", "beijing", 5, {"giftctl", "t"}));
  }

  // A voucher of `tier` for the member, as the website would redeem it; its code.
  std::string voucher(const std::string& msisdn = kDeskZh, const std::string& tier = "A") {
    const auto r = service.redeem_for(msisdn, tier, fmt::format("web-{}", ++sequence),
                                      {"web", "t"}, now);
    INFO(r.error);
    REQUIRE(r.status == Redemption::Status::issued);
    return r.code;
  }
  // The member's text, as the daemon reads an MO.
  void text_from(const std::string& msisdn, const std::string& body) {
    const auto out =
        service.handle({fmt::format("mo-{}", ++sequence), msisdn, body, "sms", now, {}, {}});
    INFO(out.error);
    REQUIRE(out.status == MoOutcome::Status::done);
  }
  // The voucher used at merchant bj-1's terminal.
  void use(const std::string& code) {
    const auto v = service.verify_at_terminal("bj-1", "till-1", code, {"api", "till-1"}, now);
    INFO(v.error);
    REQUIRE(v.status == Verification::Status::used);
  }
  std::int64_t balance(const std::string& msisdn) {
    db::Status s;
    const auto m = Ledger(*db).find_member(msisdn, &s);
    REQUIRE(m);
    const auto b = Ledger(*db).balance(m->id);
    REQUIRE(b);
    return *b;
  }
  std::int64_t count(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_text(0) : std::string("(none)");
  }
  std::string state(const std::string& code) {
    return text("SELECT state FROM vouchers WHERE code = '" + code + "'");
  }
};

}  // namespace giftgate::test
