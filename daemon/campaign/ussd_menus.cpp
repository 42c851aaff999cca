#include "daemon/campaign/ussd_menus.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/charset.hpp"
#include "protocol/gsm7.hpp"
#include "protocol/utf8.hpp"

namespace giftgate {

std::string ussd_too_long(const std::string& text, const UssdLimits& limits) {
  if (const auto septets = smpp::gsm7_length(text)) {
    if (*septets <= limits.gsm_chars) return {};
    return fmt::format("{} GSM characters with the longest plausible values, more than the {} "
                       "a USSD screen holds",
                       *septets, limits.gsm_chars);
  }
  const auto units = smpp::utf16_length(text);
  if (!units) return "not valid UTF-8";
  if (*units <= limits.ucs2_chars) return {};
  return fmt::format("{} UCS-2 characters with the longest plausible values, more than the {} "
                     "a USSD screen holds",
                     *units, limits.ucs2_chars);
}

TemplateCatalogue ussd_catalogue(const UssdLimits& limits) {
  TemplateCatalogue c;
  c.kind = "screen";
  c.entries = {
      {"main", {}},                                       // the menu: 1 balance, 2 redeem ...
      {"balance", {"balance", "tiers"}},                  // final
      {"tier_choice", {"n", "tier", "value", "price"}},   // one line of pick_tier
      {"tier_line", {"tier", "value", "price"}},          // one line of balance
      {"pick_tier", {"choices"}},                         // menu
      {"confirm", {"tier", "value", "price", "balance"}}, // menu: 1 yes, 2 no
      {"redeemed", {"tier", "value", "balance"}},         // final: the code goes by SMS
      {"cancelled", {}},                                  // final
      {"vouchers_sent", {"count"}},                       // final: the codes go by SMS
      {"no_vouchers", {}},                                // final
      {"merchants", {"city", "merchants"}},               // a page; the last is final
      {"merchant_line", {"name", "kind"}},                // one line of merchants
      {"no_merchants", {"city"}},                         // final
      {"help", {}},                                       // final
      {"more", {}},                                       // the line that turns the page
      {"invalid", {}},                                    // put before a menu shown again
      {"not_a_member", {}},                               // final
      {"insufficient_points", {"tier", "price", "balance"}},  // final
      {"out_of_stock", {"tier"}},                         // final
      {"closed", {}},                                     // final: outside the campaign
      {"timed_out", {}},                                  // final: an answer after the session
      {"slow_down", {}},                                  // final: past the limits
  };
  c.lists = {{"tiers", {"tier_line", 3}},
             {"choices", {"tier_choice", 3}},
             {"merchants", {"merchant_line", 1}}};
  c.check_with = {{"merchants", "more"}};
  c.too_long = [limits](const std::string& text) { return ussd_too_long(text, limits); };
  return c;
}

namespace {

std::shared_ptr<const UssdMenus> menus_of(std::shared_ptr<const Templates> screens,
                                          const UssdLimits& limits) {
  if (!screens) return nullptr;
  auto menus = std::make_shared<UssdMenus>();
  menus->screens = std::move(screens);
  menus->limits = limits;
  return menus;
}

}  // namespace

UssdLimits ussd_limits(const UssdSettings& settings) {
  return {settings.max_chars_gsm, settings.max_chars_ucs2};
}

std::shared_ptr<const UssdMenus> UssdMenus::parse(std::string_view text, const std::string& source,
                                                  const UssdLimits& limits, std::string* error) {
  return menus_of(Templates::parse(text, source, ussd_catalogue(limits), error), limits);
}

std::shared_ptr<const UssdMenus> UssdMenus::load(const std::string& path, const UssdLimits& limits,
                                                 std::string* error) {
  return menus_of(Templates::load(path, ussd_catalogue(limits), error), limits);
}

std::shared_ptr<const UssdMenus> UssdMenus::load(const UssdSettings& settings,
                                                 std::string* error) {
  return load(settings.menus_path, ussd_limits(settings), error);
}

std::string UssdMenus::page(const std::string& screen, const std::string& language,
                            TemplateValues values, const std::string& list_placeholder,
                            const std::vector<std::string>& lines, std::size_t first,
                            std::size_t* next) const {
  const std::string more = screens->render("more", language, {});
  // `head`: the page's first line as shown (cut, when alone it is too long).
  auto render = [&](std::size_t end, const std::string& head) {
    std::string list = head;
    for (std::size_t i = first + 1; i < end; ++i) list += "\n" + lines[i];
    TemplateValues v = values;
    v.emplace_back(list_placeholder, list);
    std::string text = screens->render(screen, language, v);
    if (end < lines.size()) text += "\n" + more;
    return text;
  };
  if (first >= lines.size()) {
    *next = lines.size();
    return render(first, {});
  }
  std::size_t end = first + 1;
  while (end < lines.size() && ussd_too_long(render(end + 1, lines[first]), limits).empty()) ++end;
  *next = end;
  std::string text = render(end, lines[first]);
  // One line alone too long for a screen (a merchant's name in Chinese
  // makes an English screen UCS-2, 80 characters): the line is cut, one
  // character at a time, and marked "..." (in either alphabet), rather
  // than the screen not sent.
  std::string head = lines[first];
  while (!ussd_too_long(text, limits).empty() && !head.empty()) {
    head.resize(utf8::last_start(head));
    text = render(end, head + "...");
  }
  return text;
}

}  // namespace giftgate
