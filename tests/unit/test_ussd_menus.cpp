// The USSD screens file: complete, and every screen within the USSD limit.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "daemon/campaign/ussd_menus.hpp"
#include "tests/support/shipped_file.hpp"

using namespace giftgate;

namespace {

std::string shipped() { return test::shipped_file("templates/menus.yaml"); }

// The shipped file with one entry replaced.
std::string with(const std::string& name, const std::string& entry) {
  return test::with_entry(shipped(), name, entry);
}

std::string refusal(const std::string& text, UssdLimits limits = {}) {
  std::string error;
  CHECK_FALSE(UssdMenus::parse(text, "menus.yaml", limits, &error));
  return error;
}

}  // namespace

TEST_CASE("ussd menus: the shipped file loads in zh and en") {
  std::string error;
  const auto m = UssdMenus::parse(shipped(), "menus.yaml", {}, &error);
  INFO(error);
  REQUIRE(m);
  CHECK(m->screens->render("main", "zh", {}).find("2 兑换礼券") != std::string::npos);
  CHECK(m->screens->render("confirm", "en", {{"tier", "A"}, {"value", "100"}, {"price", "5000"},
                                              {"balance", "12000"}}) ==
        "Redeem 5000 points for a 100 yuan voucher (tier A)? You have 12000.\n1 Yes\n2 No");
}

TEST_CASE("ussd menus: the limits, GSM and UCS-2") {
  const UssdLimits limits;
  CHECK(ussd_too_long(std::string(182, 'a'), limits).empty());
  CHECK(ussd_too_long(std::string(183, 'a'), limits) ==
        "183 GSM characters with the longest plausible values, more than the 182 a USSD screen "
        "holds");
  CHECK_FALSE(ussd_too_long(std::string(92, '{'), limits).empty());  // extension: two each
  std::string chinese;
  for (int i = 0; i < 80; ++i) chinese += "积";
  CHECK(ussd_too_long(chinese, limits).empty());
  CHECK(ussd_too_long(chinese + "a", limits) ==
        "81 UCS-2 characters with the longest plausible values, more than the 80 a USSD screen "
        "holds");
  CHECK(ussd_too_long(std::string(78, 'a') + "😀", limits).empty());  // a pair: two units
  CHECK_FALSE(ussd_too_long(std::string(79, 'a') + "😀", limits).empty());
  CHECK(ussd_too_long("\xff", limits) == "not valid UTF-8");
}

TEST_CASE("ussd menus: a screen that would not fit is refused with file and line") {
  const std::string long_main =
      "main:\n  zh: \"12580积分兑换\\n1 查积分\\n2 兑换礼券\\n3 我的礼券\\n4 可用商户\\n5 帮助"
      "以及很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多很多\"\n"
      "  en: \"x\"";
  const std::string error = refusal(with("main", long_main));
  CHECK(error.find("menus.yaml:10: 'main' zh: ") == 0);
  CHECK(error.find("UCS-2 characters") != std::string::npos);
  // Filled with the longest values: eight-digit prices on three lines.
  CHECK(refusal(shipped(), {182, 66}).find("'pick_tier' zh") != std::string::npos);
  // A list page must hold its longest line and the "more" line.
  CHECK(refusal(with("merchant_line", "merchant_line:\n  zh: \"{name}({kind}){name}{name}\"\n"
                                      "  en: \"{name}\"")).find("'merchants' zh") !=
        std::string::npos);
}

TEST_CASE("ussd menus: unknown placeholders and screens, a missing language") {
  CHECK(refusal(with("help", "help:\n  zh: \"{balance}\"\n  en: \"x\"")).find(
            "unknown placeholder {balance} (this screen has: none)") != std::string::npos);
  CHECK(refusal(shipped() + "\nbanner:\n  zh: a\n  en: b\n").find("unknown screen 'banner'") !=
        std::string::npos);
  // Cities and kinds are named in the messages file, not here.
  CHECK(refusal(shipped() + "\ncities:\n  xian: {zh: 西安, en: Xian}\n")
            .find("unknown screen 'cities'") != std::string::npos);
  CHECK(refusal(with("help", "help:\n  zh: \"x\"")).find("'help' has no en text") !=
        std::string::npos);
}

TEST_CASE("ussd menus: a long list is paged, each page with the more line but the last") {
  std::string error;
  const auto m = UssdMenus::parse(shipped(), "menus.yaml", {}, &error);
  REQUIRE(m);
  std::vector<std::string> lines;
  for (int i = 0; i < 12; ++i)
    lines.push_back(m->screens->render("merchant_line", "zh",
                                       {{"name", "金曲KTV" + std::to_string(i)}, {"kind", "ktv"}}));
  std::size_t next = 0, first = 0;
  int pages = 0;
  std::vector<std::string> seen;
  while (first < lines.size() && pages < 20) {
    const std::string page =
        m->page("merchants", "zh", {{"city", "beijing"}}, "merchants", lines, first, &next);
    CHECK(ussd_too_long(page, m->limits).empty());
    CHECK(next > first);
    const bool last = next == lines.size();
    CHECK((page.find("9 更多") != std::string::npos) == !last);
    for (std::size_t i = first; i < next; ++i) CHECK(page.find(lines[i]) != std::string::npos);
    first = next;
    ++pages;
  }
  CHECK(first == lines.size());
  CHECK(pages >= 2);
}

TEST_CASE("ussd menus: a line too long for any screen alone is cut, marked, to fit") {
  std::string error;
  const auto m = UssdMenus::parse(shipped(), "menus.yaml", {}, &error);
  REQUIRE(m);
  // A 30-character Chinese name in an English screen: UCS-2, 80 characters.
  const std::string name = "金曲欢唱量贩式KTV朝阳大悦城旗舰店第一分店二楼东侧包厢区";
  std::vector<std::string> lines{
      m->screens->render("merchant_line", "en", {{"name", name}, {"kind", "karaoke & cinema"}}),
      m->screens->render("merchant_line", "en", {{"name", "Star KTV"}, {"kind", "KTV"}})};
  std::size_t next = 0;
  const std::string page = m->page("merchants", "en", {{"city", "Shijiazhuang Sq."}}, "merchants",
                                   lines, 0, &next);
  CHECK(ussd_too_long(page, m->limits).empty());
  CHECK(next == 1);
  CHECK(page.find("金曲欢唱") != std::string::npos);
  CHECK(page.find("...") != std::string::npos);
  CHECK(page.find(lines[0]) == std::string::npos);  // not whole: it could not be
}
