#include "daemon/campaign/keywords.hpp"

#include <algorithm>

#include "daemon/campaign/voucher_code.hpp"
#include "protocol/utf8.hpp"

namespace giftgate {
namespace {

constexpr std::pair<Command, std::string_view> kNames[] = {
    {Command::help, "help"},         {Command::balance, "balance"},
    {Command::redeem, "redeem"},     {Command::confirm, "confirm"},
    {Command::my_vouchers, "my_vouchers"}, {Command::merchants, "merchants"},
    {Command::opt_out, "opt_out"},   {Command::opt_in, "opt_in"},
    {Command::verify, "verify"},
};

// Words that name a kind of merchant after the merchants keyword.
constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
    {"KTV", "ktv"}, {"K歌", "ktv"}, {"CINEMA", "cinema"}, {"影院", "cinema"},
    {"电影", "cinema"}, {"电影院", "cinema"}, {"MOVIE", "cinema"},
};

bool command_takes_argument(Command c) {
  return c == Command::redeem || c == Command::merchants || c == Command::verify ||
         c == Command::my_vouchers;
}

// A page of a list: 1 to 99.
bool is_page_number(std::string_view s) {
  return !s.empty() && s.size() <= 2 && s.front() != '0' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string_view command_name(Command c) {
  for (const auto& [command, name] : kNames)
    if (command == c) return name;
  return "help";
}

bool command_from_name(std::string_view name, Command* c) {
  for (const auto& [command, n] : kNames)
    if (n == name) {
      *c = command;
      return true;
    }
  return false;
}

bool changes_something(const Request& request) {
  if (!request.understood) return false;
  switch (request.command) {
    case Command::redeem:
    case Command::confirm:
    case Command::verify:
    case Command::opt_out:
    case Command::opt_in: return true;
    case Command::help:
    case Command::balance:
    case Command::my_vouchers:
    case Command::merchants: return false;
  }
  return true;
}

std::string fold_keyword_text(std::string_view text) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size();) {
    // A byte that is not UTF-8 matches no keyword: U+FFFD in its place.
    char32_t c = utf8::next_or_replacement(text, i);
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // full-width ASCII
    if (c == 0x3000 || c == U'\t' || c == U'\r' || c == U'\n' || c == 0xA0) c = U' ';
    if (c >= U'a' && c <= U'z') c -= 0x20;
    if (c == U' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    utf8::append(out, c);
  }
  return out;
}

Keywords::Keywords() {
  set(Command::balance, {"JF", "积分", "BAL"});
  set(Command::redeem, {"DH", "兑换", "REDEEM"});
  set(Command::confirm, {"Y", "是", "YES"});
  set(Command::my_vouchers, {"CX", "查询", "MY"});
  set(Command::merchants, {"SH", "商户"});
  set(Command::opt_out, {"TD", "退订"});
  set(Command::opt_in, {"KT", "开通"});
  set(Command::help, {"BZ", "帮助", "HELP", "?"});
  set(Command::verify, {"HX", "核销"});
}

void Keywords::set(Command command, std::vector<std::string> words) {
  for (auto& w : words) w = fold_keyword_text(w);
  words.erase(std::remove(words.begin(), words.end(), std::string()), words.end());
  words_[command] = std::move(words);
}

const std::vector<std::string>& Keywords::words(Command command) const {
  static const std::vector<std::string> none;
  const auto it = words_.find(command);
  return it == words_.end() ? none : it->second;
}

Request Keywords::parse(std::string_view text, bool from_merchant) const {
  const std::string folded = fold_keyword_text(text);
  // The longest keyword that starts the text wins (REDEEM before RE...).
  Request best;
  std::size_t best_length = 0;
  for (const auto& [command, words] : words_) {
    if (command == Command::verify && !from_merchant) continue;
    for (const auto& word : words) {
      if (word.size() <= best_length || folded.compare(0, word.size(), word) != 0) continue;
      std::string_view rest = std::string_view(folded).substr(word.size());
      if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (!command_takes_argument(command)) {
        if (!rest.empty()) continue;  // "JF" alone, not "JFX"
      } else if (rest.size() == folded.size() - word.size() && !rest.empty()) {
        // Directly after the keyword, no space: "兑换A", "DHA", "CX2". Latin
        // keywords glued to Latin text only for a one-letter tier or a page.
        const bool latin = static_cast<unsigned char>(word.back()) < 0x80;
        if (latin && command == Command::redeem && rest.size() != 1) continue;
        if (latin && command != Command::redeem && !(command == Command::my_vouchers &&
                                                     is_page_number(rest)))
          continue;
      }
      best = {command, std::string(rest), true};
      best_length = word.size();
    }
  }
  if (best.understood && best.command == Command::merchants) {
    const std::string arg = best.argument;
    best.argument.clear();
    if (!arg.empty()) {
      const auto kind = std::find_if(std::begin(kKinds), std::end(kKinds),
                                     [&](const auto& k) { return k.first == arg; });
      if (kind == std::end(kKinds)) return Request{};  // "SH something": not understood
      best.argument = std::string(kind->second);
    }
  }
  // "CX 2": the second page of the list; anything else after CX is not it.
  if (best.understood && best.command == Command::my_vouchers && !best.argument.empty() &&
      !is_page_number(best.argument))
    return Request{};
  if (!best.understood && from_merchant && check_voucher_code(folded) != CodeCheck::bad_format)
    return {Command::verify, folded, true};
  return best;
}

}  // namespace giftgate
