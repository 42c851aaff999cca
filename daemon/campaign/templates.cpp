#include "daemon/campaign/templates.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/args.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "protocol/charset.hpp"
#include "protocol/gsm7.hpp"
#include "protocol/split.hpp"
#include "protocol/utf8.hpp"

namespace giftgate {
namespace {

// Every SMS message and the placeholders it may use.
const std::vector<TemplateCatalogue::Entry>& sms_entries() {
  static const std::vector<TemplateCatalogue::Entry> list = {
      // To members.
      {"help", {}},
      {"balance", {"balance", "tiers"}},
      {"tier_line", {"tier", "value", "price"}},
      {"offer", {"tier", "value", "price", "balance", "minutes"}},
      {"voucher", {"code", "tier", "value", "expires", "balance"}},
      {"not_started", {"start"}},
      {"ended", {"end"}},
      {"not_a_member", {}},
      {"unknown_tier", {"tiers"}},
      {"insufficient_points", {"tier", "price", "balance"}},
      {"out_of_stock", {"tier"}},
      {"no_offer", {}},
      {"offer_expired", {"minutes"}},
      {"try_later", {}},
      {"my_vouchers", {"count", "vouchers", "more"}},
      {"vouchers_more", {"page", "pages", "next"}},
      {"vouchers_last", {"page", "pages"}},
      {"voucher_line", {"code", "tier", "value", "expires"}},
      {"no_vouchers", {}},
      {"merchants", {"city", "merchants"}},
      {"merchant_line", {"name", "kind", "offers"}},
      {"no_merchants", {"city"}},
      {"opted_out", {}},
      {"opted_in", {}},
      {"voucher_used_note", {"code", "value", "merchant", "time"}},
      // To merchants.
      {"verified", {"code", "tier", "value", "member"}},
      {"verify_bad_format", {}},
      {"verify_bad_check_digit", {"code"}},
      {"verify_unknown", {"code"}},
      {"verify_already_used", {"code", "time"}},
      {"verify_voided", {"code"}},
      {"verify_expired", {"code"}},
      {"verify_locked", {"until"}},
      {"verify_merchant_disabled", {}},
      // To anyone past the limits section's limits.
      {"slow_down", {}},
      // Before an unused voucher expires (reminders section).
      {"voucher_reminder", {"code", "tier", "value", "expires", "days"}},
      // The website's sign-in code (web_login.hpp).
      {"web_code", {"code", "minutes"}},
  };
  return list;
}

// Pushes: any number of texts named push_..., each filled per member.
// {tier} {value} {price}: the dearest tier the balance affords (else the
// cheapest, with {short} the points it lacks); {expires}: the oldest unused
// voucher's expiry ({count} of them).
const std::vector<TemplateCatalogue::Entry>& sms_families() {
  static const std::vector<TemplateCatalogue::Entry> list = {
      {"push_", {"balance", "city", "tier", "value", "price", "short", "count", "expires"}},
  };
  return list;
}

std::string sms_too_long(const std::string& filled, std::size_t max_parts) {
  const smpp::SplitOptions split;
  const std::size_t parts = smpp::count_parts(filled, split);
  if (parts == 0) return "not valid UTF-8";
  if (parts > max_parts)
    return fmt::format("{} SMS parts with the longest plausible values, more than the {} allowed",
                       parts, max_parts);
  return {};
}

TemplateCatalogue sms_catalogue(std::size_t max_parts) {
  TemplateCatalogue c;
  c.entries = sms_entries();
  c.families = sms_families();
  c.lists = {{"tiers", {"tier_line", 3}}, {"vouchers", {"voucher_line", 1}},
             {"merchants", {"merchant_line", 1}}, {"more", {"vouchers_more", 1}}};
  c.too_long = [max_parts](const std::string& filled) { return sms_too_long(filled, max_parts); };
  c.names = true;
  // A merchant's name in Chinese in an English text makes the text UCS-2:
  // 67 characters a part instead of 153.
  c.any_script = {"name", "merchant", "offers"};
  return c;
}

}  // namespace

// {city} and {kind} get 16 characters: the most a name in the cities and
// kinds sections may have.
std::string longest_value(std::string_view placeholder) {
  static const std::map<std::string_view, std::string_view> values = {
      {"balance", "99999999"},        {"tier", "A"},
      {"value", "100"},               {"price", "99999999"},
      {"minutes", "1440"},            {"code", "AE12098768"},
      {"expires", "2027-12-31 23:59"}, {"start", "2027-12-31 23:59"},
      {"end", "2027-12-31 23:59"},    {"time", "2027-12-31 23:59"},
      {"until", "2027-12-31 23:59"},  {"count", "99"},
      {"city", "Shijiazhuang Sq."},   {"member", "86138****8000"},
      {"kind", "karaoke & cinema"},   {"n", "9"},
      {"short", "99999999"},          {"days", "365"},
      {"page", "99"},                 {"pages", "99"},
      {"next", "99"},
      // kMerchantNameMax and kMerchantOffersMax long (a test checks).
      {"name", "Golden Melody KTV Plaza Branch"},
      {"merchant", "Golden Melody KTV Plaza Branch"},
      {"offers",
       "A: 5 hours free KTV on weekdays; B: 3 hours of KTV free; C: 2 hours, afternoons."},
  };
  const auto it = values.find(placeholder);
  return it == values.end() ? std::string() : std::string(it->second);
}

std::optional<std::size_t> value_length(std::string_view value) {
  if (const auto septets = smpp::gsm7_length(value)) return septets;
  return smpp::utf16_length(value);
}

namespace {

// The placeholder names in a text, or an error for a malformed brace.
bool placeholders(std::string_view text, std::vector<std::string>& out, std::string* error) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        ++i;
        continue;
      }
      *error = "a lone '}' (write '}}' for a brace)";
      return false;
    }
    if (text[i] != '{') continue;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      ++i;
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string_view::npos) {
      *error = "a '{' without its '}' (write '{{' for a brace)";
      return false;
    }
    auto name = text.substr(i + 1, close - i - 1);
    name = name.substr(0, name.find(':'));
    if (name.empty()) {
      *error = "an empty placeholder '{}': placeholders have names, like {code}";
      return false;
    }
    out.emplace_back(name);
    i = close;
  }
  return true;
}

// Why a name would not fit where the size checks' value for its
// placeholder fits, if it would not. That value is 16 Latin letters: as many
// units as 16 characters of a Chinese (UCS-2) text, and as many septets as
// 16 of an English (GSM 7-bit) one, whatever the text. So an English name
// must be GSM 7-bit (else it would make the whole text UCS-2, at 70
// characters a part instead of 160), and is counted in septets (a € or a
// bracket takes two); a Chinese one is counted in UTF-16 units (an emoji
// takes two).
std::optional<std::string> name_misfit(const std::string& name, std::string_view language,
                                       std::size_t most) {
  const auto too_long = [&] {
    return fmt::format("is longer than the {} characters a name may have", most);
  };
  if (language == "en") {
    const auto septets = smpp::gsm7_length(name);
    if (!septets)
      return std::string("is not in the GSM 7-bit alphabet that English texts are sent in (it "
                         "would make each text with it UCS-2: 70 characters a part, not 160)");
    if (*septets > most) return too_long() + " (€, brackets and the like count twice)";
    return std::nullopt;
  }
  if (smpp::utf16_length(name).value_or(0) > most) return too_long();
  return std::nullopt;
}

bool known_language(std::string_view language) {
  return std::any_of(std::begin(kLanguages), std::end(kLanguages),
                     [&](const char* l) { return language == l; });
}

// The sections that name what {city} and {kind} show: section, the
// placeholder, and the thing named (in errors).
struct NamedSection {
  const char* section;
  const char* placeholder;
  const char* thing;
};
constexpr NamedSection kNamedSections[] = {{"cities", "city", "city"},
                                           {"kinds", "kind", "merchant kind"}};

// One such section: id (as imported, lower case) -> zh and en names.
// Returns why it is wrong, with *where set, or "".
std::string parse_names(const YAML::Node& node, const NamedSection& s,
                        std::map<std::string, std::map<std::string, std::string>, std::less<>>& out,
                        YAML::Mark* where) {
  *where = node.Mark();
  if (!node.IsMap())
    return fmt::format("'{}' must map {} ids (as imported) to their names in zh and en", s.section,
                       s.thing);
  for (const auto& kv : node) {
    *where = kv.first.Mark();
    const std::string id = smpp::ascii_lower(kv.first.Scalar());  // as imported
    if (id.empty()) return fmt::format("a {} in '{}' without an id", s.thing, s.section);
    if (out.count(id)) return fmt::format("{} '{}' appears twice in '{}'", s.thing, id, s.section);
    if (!kv.second.IsMap())
      return fmt::format("{} '{}' must map languages (zh, en) to its name", s.thing, id);
    auto& names = out[id];
    for (const auto& lt : kv.second) {
      *where = lt.first.Mark();
      const std::string language = lt.first.Scalar();
      if (!known_language(language))
        return fmt::format("unknown language '{}' for {} '{}' (zh, en)", language, s.thing, id);
      if (!lt.second.IsScalar() || lt.second.Scalar().empty())
        return fmt::format("{} '{}' {} must be a name", s.thing, id, language);
      const std::string& name = lt.second.Scalar();
      if (auto misfit = name_misfit(name, language, utf8::length(longest_value(s.placeholder))))
        return fmt::format("{} '{}' {}: '{}' {}", s.thing, id, language, name, *misfit);
      names[language] = name;
    }
    *where = kv.first.Mark();
    for (const char* language : kLanguages)
      if (!names.count(language)) return fmt::format("{} '{}' has no {} name", s.thing, id, language);
  }
  return {};
}

std::string format_named(const std::string& text, const TemplateValues& values) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const auto& [name, value] : values) store.push_back(fmt::arg(name.c_str(), value));
  return fmt::vformat(text, store);
}

}  // namespace

const TemplateCatalogue::Entry* TemplateCatalogue::find(std::string_view name) const {
  for (const auto& e : entries)
    if (name == e.name) return &e;
  for (const auto& f : families)
    if (name.size() > f.name.size() && name.starts_with(f.name) &&
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos)
      return &f;
  return nullptr;
}

std::vector<std::pair<std::string, std::vector<std::string>>> Templates::catalogue() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& e : sms_entries()) out.emplace_back(e.name, e.placeholders);
  return out;
}

std::shared_ptr<const Templates> Templates::parse(std::string_view text, const std::string& source,
                                                  std::size_t max_parts, std::string* error) {
  auto t = build(text, source, sms_catalogue(max_parts), error);
  if (t) t->max_parts_ = max_parts;
  return t;
}

std::shared_ptr<const Templates> Templates::parse(std::string_view text, const std::string& source,
                                                  const TemplateCatalogue& catalogue,
                                                  std::string* error) {
  return build(text, source, catalogue, error);
}

std::shared_ptr<Templates> Templates::build(std::string_view text, const std::string& source,
                                            const TemplateCatalogue& catalogue,
                                            std::string* error) {
  const std::string& kind = catalogue.kind;
  auto fail = [&](const YAML::Mark& mark, const std::string& message) {
    *error = fmt::format("{}:{}: {}", source, mark.line + 1, message);
    return nullptr;
  };
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(e.mark, e.msg);
  }
  if (!root.IsMap()) return fail(root.Mark(), fmt::format("the file must map {} names to their texts", kind));

  auto t = std::make_shared<Templates>();
  std::map<std::string, YAML::Mark> marks;
  for (const auto& kv : static_cast<const YAML::Node&>(root)) {
    const std::string name = kv.first.Scalar();
    const auto named = std::find_if(std::begin(kNamedSections), std::end(kNamedSections),
                                    [&](const NamedSection& n) { return name == n.section; });
    if (named != std::end(kNamedSections) && catalogue.names) {
      if (marks.count(name)) return fail(kv.first.Mark(), fmt::format("'{}' appears twice", name));
      marks[name] = kv.first.Mark();
      YAML::Mark bad;
      if (const std::string why = parse_names(kv.second, *named, t->names_[named->placeholder], &bad);
          !why.empty())
        return fail(bad, why);
      continue;
    }
    const auto* entry = catalogue.find(name);
    if (!entry) return fail(kv.first.Mark(), fmt::format("unknown {} '{}'", kind, name));
    if (t->texts_.count(name)) return fail(kv.first.Mark(), fmt::format("'{}' appears twice", name));
    if (!kv.second.IsMap())
      return fail(kv.second.Mark(), fmt::format("'{}' must map languages (zh, en) to texts", name));
    marks[name] = kv.first.Mark();
    auto& by_language = t->texts_[name];
    for (const auto& lt : kv.second) {
      const std::string language = lt.first.Scalar();
      if (!known_language(language))
        return fail(lt.first.Mark(), fmt::format("unknown language '{}' in '{}' (zh, en)",
                                                 language, name));
      if (!lt.second.IsScalar())
        return fail(lt.second.Mark(), fmt::format("'{}' {} must be a text", name, language));
      const std::string body = lt.second.Scalar();
      std::vector<std::string> used;
      std::string why;
      if (!placeholders(body, used, &why))
        return fail(lt.second.Mark(), fmt::format("'{}' {}: {}", name, language, why));
      for (const auto& p : used) {
        if (std::find(entry->placeholders.begin(), entry->placeholders.end(), p) ==
            entry->placeholders.end())
          return fail(lt.second.Mark(),
                      fmt::format("'{}' {}: unknown placeholder {{{}}} (this {} has: {})", name,
                                  language, p, kind,
                                  entry->placeholders.empty()
                                      ? std::string("none")
                                      : fmt::format("{{{}}}", fmt::join(entry->placeholders, "} {"))));
      }
      by_language[language] = body;
    }
  }
  for (const auto& e : catalogue.entries) {
    const auto it = t->texts_.find(e.name);
    if (it == t->texts_.end()) {
      *error = fmt::format("{}: {} '{}' is missing", source, kind, e.name);
      return nullptr;
    }
    for (const char* language : kLanguages)
      if (!it->second.count(language))
        return fail(marks[e.name], fmt::format("'{}' has no {} text", e.name, language));
  }

  // Every text, filled with the longest plausible values, within the limit;
  // a second time with the values that may be in any script in Chinese.
  for (const bool chinese : {false, true}) {
    if (chinese && catalogue.any_script.empty()) break;
    const auto value_of = [&](const std::string& p) {
      std::string v = longest_value(p);
      if (chinese && std::find(catalogue.any_script.begin(), catalogue.any_script.end(), p) !=
                         catalogue.any_script.end()) {
        const std::size_t n = value_length(v).value_or(0);
        v.clear();
        for (std::size_t i = 0; i < n; ++i) v += "歌";
      }
      return v;
    };
    // The catalogue's entries in its order (the first that fails is the one
    // named), then the texts of its families.
    std::vector<std::string> names;
    for (const auto& e : catalogue.entries) names.push_back(e.name);
    for (const auto& [name, texts] : t->texts_)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    for (const auto& name : names) {
      const auto& e = *catalogue.find(name);  // every text's name is in it (checked above)
      for (const char* language : kLanguages) {
        TemplateValues values;
        for (const auto& p : e.placeholders) values.emplace_back(p, value_of(p));
        for (auto& [p, v] : values) {  // lists: items filled the same way
          const auto list = catalogue.lists.find(p);
          if (list == catalogue.lists.end()) continue;
          TemplateValues item_values;
          for (const auto& q : catalogue.find(list->second.item)->placeholders)
            item_values.emplace_back(q, value_of(q));
          const std::string one = t->render(list->second.item, language, item_values);
          v = one;
          for (int i = 1; i < list->second.lines; ++i) v += "\n" + one;
        }
        std::string filled;
        try {
          filled = t->render(name, language, values);
          if (const auto with = catalogue.check_with.find(name); with != catalogue.check_with.end())
            filled += "\n" + t->render(with->second, language, {});
        } catch (const fmt::format_error& ex) {
          return fail(marks[name], fmt::format("'{}' {}: {}", name, language, ex.what()));
        }
        if (catalogue.too_long) {
          const std::string why = catalogue.too_long(filled);
          if (!why.empty())
            return fail(marks[name], fmt::format("'{}' {}: {}{}", name, language, why,
                                                   chinese ? " (merchants' names and offers in "
                                                             "Chinese)"
                                                           : ""));
        }
      }
    }
  }
  return t;
}

namespace {

std::optional<std::string> read_whole(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("{}: cannot be read", path);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::shared_ptr<const Templates> Templates::load(const std::string& path, std::size_t max_parts,
                                                 std::string* error) {
  const auto text = read_whole(path, error);
  return text ? parse(*text, path, max_parts, error) : nullptr;
}

std::shared_ptr<const Templates> Templates::load(const std::string& path,
                                                 const TemplateCatalogue& catalogue,
                                                 std::string* error) {
  const auto text = read_whole(path, error);
  return text ? parse(*text, path, catalogue, error) : nullptr;
}

std::string Templates::name_of(std::string_view placeholder, std::string_view id,
                               std::string_view language) const {
  const auto section = names_.find(placeholder);
  if (section == names_.end()) return std::string(id);
  const auto it = section->second.find(id);
  if (it == section->second.end()) return std::string(id);
  const auto name = it->second.find(std::string(language));
  return name == it->second.end() ? std::string(id) : name->second;
}

std::vector<std::string> Templates::names_starting(std::string_view prefix) const {
  std::vector<std::string> out;
  for (const auto& [name, texts] : texts_)
    if (name.starts_with(prefix)) out.push_back(name);
  return out;
}

std::string Templates::render(std::string_view name, std::string_view language,
                              const TemplateValues& values) const {
  const auto& texts = texts_.at(std::string(name));
  auto it = texts.find(std::string(language));
  if (it == texts.end()) it = texts.find("zh");
  const std::string& text = it->second;
  // Every placeholder the text uses gets a value (empty when none given).
  std::vector<std::string> used;
  std::string error;
  placeholders(text, used, &error);
  TemplateValues all;
  for (const auto& p : used) {
    if (std::any_of(all.begin(), all.end(), [&](const auto& kv) { return kv.first == p; })) continue;
    const auto v = std::find_if(values.begin(), values.end(),
                                [&](const auto& kv) { return kv.first == p; });
    all.emplace_back(p, v == values.end() ? std::string() : v->second);
  }
  return format_named(text, all);
}

}  // namespace giftgate
