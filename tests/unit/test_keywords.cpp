#include <doctest/doctest.h>

#include "daemon/campaign/keywords.hpp"

using namespace giftgate;

namespace {

Request member(std::string_view text) { return Keywords().parse(text, false); }
Request merchant(std::string_view text) { return Keywords().parse(text, true); }

}  // namespace

TEST_CASE("keywords: Chinese and Latin forms, any case, spaces and full-width") {
  for (const char* text : {"JF", "jf", " Jf ", "积分", "BAL", "ＪＦ", "\u3000jf\u3000"}) {
    const auto r = member(text);
    CHECK_MESSAGE(r.command == Command::balance, text);
    CHECK(r.understood);
  }
  for (const char* text : {"Y", "y", "是", "YES", "ｙ"}) CHECK(member(text).command == Command::confirm);
  for (const char* text : {"CX", "查询", "my"}) CHECK(member(text).command == Command::my_vouchers);
  CHECK(member("TD").command == Command::opt_out);
  CHECK(member("退订").command == Command::opt_out);
  CHECK(member("KT").command == Command::opt_in);
  CHECK(member("开通").command == Command::opt_in);
  for (const char* text : {"BZ", "帮助", "help", "?", "？"}) {
    const auto r = member(text);
    CHECK(r.command == Command::help);
    CHECK(r.understood);
  }
}

TEST_CASE("keywords: redeem takes the tier, with or without a space") {
  for (const char* text : {"DH A", "dh a", "DHA", "兑换A", "兑换 A", "REDEEM a", "ＤＨ　Ａ"}) {
    const auto r = member(text);
    CHECK_MESSAGE(r.command == Command::redeem, text);
    CHECK_MESSAGE(r.argument == "A", text);
  }
  CHECK(member("DH").command == Command::redeem);  // no tier: the reply lists them
  CHECK(member("DH").argument.empty());
  CHECK(member("DHXYZ").understood == false);      // glued Latin only for one letter
}

TEST_CASE("keywords: merchants, of a kind") {
  CHECK(member("SH").command == Command::merchants);
  CHECK(member("SH").argument.empty());
  CHECK(member("sh ktv").argument == "ktv");
  CHECK(member("SH 影院").argument == "cinema");
  CHECK(member("商户 电影").argument == "cinema");
  CHECK_FALSE(member("SH pizza").understood);
}

TEST_CASE("keywords: anything else is help, not understood") {
  for (const char* text : {"", "hello", "JF please", "积分多少", "\xFF\xFE", "DROP TABLE members;"}) {
    const auto r = member(text);
    CHECK(r.command == Command::help);
    CHECK_FALSE(r.understood);
  }
}

TEST_CASE("keywords: a merchant verifies with HX, 核销 or the bare code") {
  for (const char* text : {"HX AE12098768", "hx ae12098768", "核销AE12098768", "核销 AE-1209-8768"}) {
    const auto r = merchant(text);
    CHECK_MESSAGE(r.command == Command::verify, text);
  }
  CHECK(merchant("HX AE12098768").argument == "AE12098768");
  const auto bare = merchant("ae 1209 8768");
  CHECK(bare.command == Command::verify);
  CHECK(bare.argument == "AE 1209 8768");
  // A member's HX is not a verification, and a merchant may still ask JF.
  CHECK_FALSE(member("HX AE12098768").understood);
  CHECK(merchant("JF").command == Command::balance);
}

TEST_CASE("keywords: configured words replace the defaults") {
  Keywords k;
  k.set(Command::balance, {"POINTS", "查积分"});
  CHECK(k.parse("points", false).command == Command::balance);
  CHECK(k.parse("查积分", false).command == Command::balance);
  CHECK_FALSE(k.parse("JF", false).understood);
}

TEST_CASE("keywords: CX takes a page number, and nothing else") {
  Keywords k;
  for (const char* text : {"CX 2", "cx2", "CX  2 ", "查询2", "查询 2", "ＣＸ　２", "MY 12"}) {
    const auto r = k.parse(text, false);
    CHECK_MESSAGE(r.command == Command::my_vouchers, text);
    CHECK_MESSAGE(r.understood, text);
  }
  CHECK(k.parse("CX 2", false).argument == "2");
  CHECK(k.parse("CX", false).argument.empty());
  for (const char* text : {"CX 0", "CX 02", "CX 100", "CX two", "CX 2 3", "CXA"}) {
    CHECK_FALSE_MESSAGE(k.parse(text, false).understood, text);
  }
}

TEST_CASE("keywords: what changes something, and what only asks") {
  Keywords k;
  for (const char* text : {"DH A", "Y", "TD", "KT"})
    CHECK_MESSAGE(changes_something(k.parse(text, false)), text);
  CHECK(changes_something(k.parse("HX AE12098768", true)));
  for (const char* text : {"JF", "CX", "CX 2", "SH", "BZ", "what?"})
    CHECK_FALSE_MESSAGE(changes_something(k.parse(text, false)), text);
}
