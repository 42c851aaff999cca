#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "daemon/campaign/templates.hpp"
#include "protocol/split.hpp"
#include "tests/support/shipped_file.hpp"

using namespace giftgate;

namespace {

std::string shipped() { return test::shipped_file("templates/messages.yaml"); }

// The shipped file with one entry replaced.
std::string with(const std::string& name, const std::string& entry) {
  return test::with_entry(shipped(), name, entry);
}

std::string refusal(const std::string& text, std::size_t max_parts = 3) {
  std::string error;
  CHECK_FALSE(Templates::parse(text, "messages.yaml", max_parts, &error));
  return error;
}

}  // namespace

TEST_CASE("templates: the shipped file is complete in zh and en, and renders") {
  std::string error;
  const auto t = Templates::parse(shipped(), "messages.yaml", 3, &error);
  INFO(error);
  REQUIRE(t);
  for (const auto& [name, placeholders] : Templates::catalogue()) CHECK(t->has(name));
  CHECK(t->render("voucher", "en", {{"code", "AE12098768"}, {"value", "100"},
                                    {"expires", "2026-12-31"}, {"balance", "200"}}) ==
        "12580 gift voucher worth 100 yuan: code AE12098768, valid until 2026-12-31. Show the "
        "code at the merchant; text SH for where. Points left: 200.");
  CHECK(t->render("no_vouchers", "zh", {}) == "您没有未使用的礼券。");
  // An unknown language falls back to zh; a missing value is left empty.
  CHECK(t->render("out_of_stock", "fr", {}) == "抱歉，您所在城市的档礼券已兑完，可试试其他档位。");
}

TEST_CASE("templates: each mistake is refused with file, line and reason") {
  CHECK(refusal(with("help", "help:\n  zh: \"x {code}\"\n  en: \"x\"")) ==
        "messages.yaml:13: 'help' zh: unknown placeholder {code} (this message has: none)");
  CHECK(refusal(with("out_of_stock", "out_of_stock:\n  zh: \"{tier}\"\n  en: \"{teir}\"")) ==
        "messages.yaml:54: 'out_of_stock' en: unknown placeholder {teir} (this message has: "
        "{tier})");
  CHECK(refusal(with("no_offer", "no_offer:\n  zh: \"x\"")) ==
        "messages.yaml:56: 'no_offer' has no en text");
  CHECK(refusal(with("no_offer", "no_offer:\n  zh: \"x\"\n  en: \"y\"\n  fr: \"z\"")) ==
        "messages.yaml:59: unknown language 'fr' in 'no_offer' (zh, en)");
  const std::string file = shipped();
  CHECK(refusal(file + "\nfarewell:\n  zh: x\n  en: y\n") ==
        "messages.yaml:" + std::to_string(std::count(file.begin(), file.end(), '\n') + 2) +
            ": unknown message 'farewell'");
  CHECK(refusal(with("help", "help:\n  zh: \"{\"\n  en: \"x\"")) ==
        "messages.yaml:13: 'help' zh: a '{' without its '}' (write '{{' for a brace)");
  CHECK(refusal("help:\n  zh: x\n  en: y\n") ==
        "messages.yaml: message 'balance' is missing");
  CHECK(refusal("help: [").rfind("messages.yaml:", 0) == 0);
}

TEST_CASE("templates: a text too long for the allowed parts is refused") {
  const std::string long_text(500, 'x');
  CHECK(refusal(with("help", "help:\n  zh: \"x\"\n  en: \"" + long_text + "\"")) ==
        "messages.yaml:12: 'help' en: 4 SMS parts with the longest plausible values, more than "
        "the 3 allowed");
}

TEST_CASE("templates: cities and kinds are named in each language, an unnamed one shows its id") {
  std::string error;
  const auto t = Templates::parse(shipped(), "messages.yaml", 3, &error);
  INFO(error);
  REQUIRE(t);
  CHECK(t->name_of("city", "shenzhen", "zh") == "深圳");
  CHECK(t->name_of("city", "shenzhen", "en") == "Shenzhen");
  CHECK(t->name_of("city", "wuhan", "zh") == "wuhan");
  CHECK(t->name_of("kind", "cinema", "zh") == "影院");
  CHECK(t->name_of("kind", "cinema", "en") == "cinema");
  CHECK(t->name_of("kind", "bowling", "zh") == "bowling");
  CHECK(t->name_of("tier", "A", "zh") == "A");  // nothing else is named

  // Ids are matched as imported: in lower case.
  const std::string base = test::with_entry(shipped(), "cities", "cities:\n  XiAn: {zh: 西安, en: Xi'an}");
  const auto xian = Templates::parse(base, "messages.yaml", 3, &error);
  INFO(error);
  REQUIRE(xian);
  CHECK(xian->name_of("city", "xian", "zh") == "西安");
  CHECK(xian->name_of("city", "beijing", "zh") == "beijing");  // the section was replaced whole
}

TEST_CASE("templates: a wrong cities section is refused with line and reason") {
  auto cities = [](const std::string& body) {
    return refusal(test::with_entry(shipped(), "cities", "cities:\n" + body));
  };
  CHECK(cities("  xian: {zh: 西安}").find("city 'xian' has no en name") != std::string::npos);
  CHECK(cities("  xian: {zh: 西安, en: Xian, fr: Xian}").find(
            "unknown language 'fr' for city 'xian' (zh, en)") != std::string::npos);
  CHECK(cities("  xian: 西安").find("city 'xian' must map languages (zh, en) to its name") !=
        std::string::npos);
  CHECK(cities("  xian: {zh: \"\", en: Xian}").find("city 'xian' zh must be a name") !=
        std::string::npos);
  CHECK(refusal(test::with_entry(shipped(), "cities", "cities: [beijing]"))
            .find("'cities' must map city ids") != std::string::npos);
  // Every refusal names the file and a line.
  CHECK(cities("  xian: {zh: 西安}").rfind("messages.yaml:", 0) == 0);
  CHECK(refusal(test::with_entry(shipped(), "kinds", "kinds:\n  bowling: {en: bowling}"))
            .find("merchant kind 'bowling' has no zh name") != std::string::npos);
}

TEST_CASE("templates: a name longer than the size checks assume is refused") {
  // The checks fill {city} and {kind} with 16 characters: a name may have
  // as many (counted as characters, not bytes), and no more.
  std::string error;
  const auto sixteen = Templates::parse(
      test::with_entry(shipped(), "cities", "cities:\n  xian: {zh: 西安西安西安西安西安西安西安西安, en: Xi'an}"),
      "messages.yaml", 3, &error);
  INFO(error);
  CHECK(sixteen);
  CHECK(refusal(test::with_entry(shipped(), "cities",
                                 "cities:\n  xian: {zh: 西安, en: Xi'an Shaanxi Province}"))
            .find("city 'xian' en: 'Xi'an Shaanxi Province' is longer than the 16 characters a "
                  "name may have") != std::string::npos);
}

TEST_CASE("templates: a name that would change how its text is sent is refused") {
  // English texts are checked as GSM 7-bit: a name outside that alphabet
  // would make them UCS-2 (70 characters a part), and one with the
  // alphabet's two-septet characters takes more room than it seems.
  auto city_en = [](const std::string& name) {
    return refusal(test::with_entry(shipped(), "cities", "cities:\n  xian: {zh: 西安, en: \"" + name + "\"}"));
  };
  CHECK(city_en("Xi'an 西安").find("city 'xian' en: 'Xi'an 西安' is not in the GSM 7-bit alphabet") !=
        std::string::npos);
  CHECK(city_en("[Xi'an] €€€€").find("is longer than the 16 characters a name may have") !=
        std::string::npos);  // 12 characters, 18 septets
  std::string error;
  CHECK(Templates::parse(test::with_entry(shipped(), "cities", "cities:\n  xian: {zh: 西安, en: Xi'an Café}"),
                         "messages.yaml", 3, &error));  // é is in the alphabet
  INFO(error);
  // Chinese texts are UCS-2: an emoji takes two of its units.
  const std::string eight_emoji = "\U0001F3A4\U0001F3A4\U0001F3A4\U0001F3A4\U0001F3A4\U0001F3A4\U0001F3A4\U0001F3A4";
  CHECK(refusal(test::with_entry(shipped(), "kinds", "kinds:\n  ktv: {zh: \"" + eight_emoji + "KTV\", en: KTV}"))
            .find("merchant kind 'ktv' zh:") != std::string::npos);
  CHECK(Templates::parse(test::with_entry(shipped(), "kinds", "kinds:\n  ktv: {zh: \"" + eight_emoji + "\", en: KTV}"),
                         "messages.yaml", 3, &error));
}

TEST_CASE("templates: the longest merchant name and offers an import allows fit every message") {
  // The size checks' values are exactly as long as imports allow.
  CHECK(value_length(longest_value("name")) == kMerchantNameMax);
  CHECK(value_length(longest_value("merchant")) == kMerchantNameMax);
  CHECK(value_length(longest_value("offers")) == kMerchantOffersMax);

  std::string error;
  const auto t = Templates::parse(shipped(), "messages.yaml", 3, &error);
  INFO(error);
  REQUIRE(t);
  std::string han_name, han_offers;
  for (std::size_t i = 0; i < kMerchantNameMax; ++i) han_name += "歌";
  for (std::size_t i = 0; i < kMerchantOffersMax; ++i) han_offers += "唱";
  const std::string euro_name = std::string(kMerchantNameMax / 2, 'x') + [] {
    std::string e;
    for (std::size_t i = 0; i < kMerchantNameMax / 4; ++i) e += "€";
    return e;
  }();  // 15 letters and 7 euro signs: 29 septets
  const smpp::SplitOptions split;
  for (const std::string& name : {longest_value("name"), han_name, euro_name}) {
    for (const std::string& offers : {longest_value("offers"), han_offers}) {
      for (const char* language : kLanguages) {
        INFO(name, " ", offers, " ", language);
        const std::string note = t->render("voucher_used_note", language,
                                           {{"code", longest_value("code")},
                                            {"value", longest_value("value")},
                                            {"merchant", name},
                                            {"time", longest_value("time")}});
        CHECK(smpp::count_parts(note, split) >= 1);
        CHECK(smpp::count_parts(note, split) <= 3);
        const std::string line = t->render("merchant_line", language,
                                           {{"name", name},
                                            {"kind", longest_value("kind")},
                                            {"offers", offers}});
        const std::string list = t->render("merchants", language,
                                           {{"city", longest_value("city")}, {"merchants", line}});
        CHECK(smpp::count_parts(list, split) >= 1);
        CHECK(smpp::count_parts(list, split) <= 3);
      }
    }
  }
}

TEST_CASE("templates: a text that fits a Latin merchant name but not a Chinese one is refused") {
  // 330 septets with a Latin name: 3 parts. A Chinese name makes the whole
  // English text UCS-2: 330 units, 5 parts.
  const std::string padding(300, 'x');
  const std::string why = refusal(with(
      "voucher_used_note",
      "voucher_used_note:\n  zh: \"{merchant}\"\n  en: \"" + padding + "{merchant}\""));
  CHECK(why.find("'voucher_used_note' en: 5 SMS parts with the longest plausible values, more "
                 "than the 3 allowed (merchants' names and offers in Chinese)") !=
        std::string::npos);
}
