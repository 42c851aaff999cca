#include "daemon/templates.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/args.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "protocol/split.hpp"

namespace giftgate {
namespace {

// Every message and the placeholders it may use.
struct Entry {
  const char* name;
  std::vector<const char*> placeholders;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> list = {
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
      {"my_vouchers", {"count", "vouchers"}},
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
      {"verify_wrong_city", {"code"}},
      {"verify_locked", {"until"}},
  };
  return list;
}

const Entry* find_entry(std::string_view name) {
  for (const auto& e : entries())
    if (name == e.name) return &e;
  return nullptr;
}

// The longest value each placeholder plausibly takes, for the parts check.
// The lists are checked with their item templates filled the same way.
std::string longest(std::string_view placeholder) {
  static const std::map<std::string_view, std::string_view> values = {
      {"balance", "99999999"},        {"tier", "A"},
      {"value", "100"},               {"price", "99999999"},
      {"minutes", "1440"},            {"code", "AE12098768"},
      {"expires", "2027-12-31 23:59"}, {"start", "2027-12-31 23:59"},
      {"end", "2027-12-31 23:59"},    {"time", "2027-12-31 23:59"},
      {"until", "2027-12-31 23:59"},  {"count", "99"},
      {"city", "shenzhen"},           {"member", "86138****8000"},
      {"kind", "cinema"},
      {"name", "Golden Melody KTV Plaza Branch"},
      {"merchant", "Golden Melody KTV Plaza Branch"},
      {"offers", "A: 5 hours free KTV; B: 3 hours; C: 2 hours in the afternoon"},
  };
  const auto it = values.find(placeholder);
  return it == values.end() ? std::string() : std::string(it->second);
}

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

std::string format_named(const std::string& text, const TemplateValues& values) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const auto& [name, value] : values) store.push_back(fmt::arg(name.c_str(), value));
  return fmt::vformat(text, store);
}

}  // namespace

std::vector<std::pair<std::string, std::vector<std::string>>> Templates::catalogue() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& e : entries())
    out.emplace_back(e.name, std::vector<std::string>(e.placeholders.begin(), e.placeholders.end()));
  return out;
}

std::shared_ptr<const Templates> Templates::parse(std::string_view text, const std::string& source,
                                                  std::size_t max_parts, std::string* error) {
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
  if (!root.IsMap()) return fail(root.Mark(), "the file must map message names to their texts");

  auto t = std::make_shared<Templates>();
  t->max_parts_ = max_parts;
  std::map<std::string, YAML::Mark> marks;
  for (const auto& kv : static_cast<const YAML::Node&>(root)) {
    const std::string name = kv.first.Scalar();
    const Entry* entry = find_entry(name);
    if (!entry) return fail(kv.first.Mark(), fmt::format("unknown message '{}'", name));
    if (t->texts_.count(name)) return fail(kv.first.Mark(), fmt::format("'{}' appears twice", name));
    if (!kv.second.IsMap())
      return fail(kv.second.Mark(), fmt::format("'{}' must map languages (zh, en) to texts", name));
    marks[name] = kv.first.Mark();
    auto& by_language = t->texts_[name];
    for (const auto& lt : kv.second) {
      const std::string language = lt.first.Scalar();
      if (std::find_if(std::begin(kLanguages), std::end(kLanguages),
                       [&](const char* l) { return language == l; }) == std::end(kLanguages))
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
        if (std::find_if(entry->placeholders.begin(), entry->placeholders.end(),
                         [&](const char* known) { return p == known; }) ==
            entry->placeholders.end())
          return fail(lt.second.Mark(),
                      fmt::format("'{}' {}: unknown placeholder {{{}}} (this message has: {})",
                                  name, language, p,
                                  entry->placeholders.empty()
                                      ? std::string("none")
                                      : fmt::format("{{{}}}", fmt::join(entry->placeholders, "} {"))));
      }
      by_language[language] = body;
    }
  }
  for (const auto& e : entries()) {
    const auto it = t->texts_.find(e.name);
    if (it == t->texts_.end()) {
      *error = fmt::format("{}: message '{}' is missing", source, e.name);
      return nullptr;
    }
    for (const char* language : kLanguages)
      if (!it->second.count(language))
        return fail(marks[e.name], fmt::format("'{}' has no {} text", e.name, language));
  }

  // Every text, filled with the longest plausible values, within max_parts.
  smpp::SplitOptions split;
  for (const auto& e : entries()) {
    for (const char* language : kLanguages) {
      TemplateValues values;
      for (const char* p : e.placeholders) values.emplace_back(p, longest(p));
      for (auto& [p, v] : values) {  // lists: items filled the same way
        const char* item = p == "tiers"       ? "tier_line"
                           : p == "vouchers"  ? "voucher_line"
                           : p == "merchants" ? "merchant_line"
                                              : nullptr;
        if (!item) continue;
        TemplateValues item_values;
        for (const char* q : find_entry(item)->placeholders) item_values.emplace_back(q, longest(q));
        const std::string one = t->render(item, language, item_values);
        v = p == "tiers" ? one + "\n" + one + "\n" + one : one;
      }
      std::string filled;
      try {
        filled = t->render(e.name, language, values);
      } catch (const fmt::format_error& ex) {
        return fail(marks[e.name], fmt::format("'{}' {}: {}", e.name, language, ex.what()));
      }
      const std::size_t parts = smpp::count_parts(filled, split);
      if (parts == 0)
        return fail(marks[e.name], fmt::format("'{}' {}: not valid UTF-8", e.name, language));
      if (parts > max_parts)
        return fail(marks[e.name],
                    fmt::format("'{}' {}: {} SMS parts with the longest plausible values, more "
                                "than the {} allowed",
                                e.name, language, parts, max_parts));
    }
  }
  return t;
}

std::shared_ptr<const Templates> Templates::load(const std::string& path, std::size_t max_parts,
                                                 std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("{}: cannot be read", path);
    return nullptr;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, max_parts, error);
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
