// libFuzzer target: what a member or merchant texts, read by the keyword
// parser, with the default keywords or with keywords the input configures
// (lines before a 0x1F octet: line k gives the words of command k % 9,
// separated by '|'). Beyond not crashing:
// - folding is valid UTF-8, idempotent, upper case, trimmed, single-spaced;
// - parsing depends on the folded text only;
// - a request understood starts with one of its command's words and its
//   argument is the rest of the text (or the merchant kind it names);
// - verify only from a merchant's number; not understood is help, bare;
// - whatever a member's text means, a merchant's means something too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/keywords.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "protocol/utf8.hpp"

using namespace giftgate;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

constexpr Command kCommands[] = {Command::help,        Command::balance,   Command::redeem,
                                 Command::confirm,     Command::my_vouchers, Command::merchants,
                                 Command::opt_out,     Command::opt_in,    Command::verify};

std::vector<std::string> split(std::string_view s, char on) {
  std::vector<std::string> out;
  for (;;) {
    const auto cut = s.find(on);
    out.emplace_back(s.substr(0, cut));
    if (cut == std::string_view::npos) return out;
    s.remove_prefix(cut + 1);
  }
}

bool is_page(std::string_view s) {
  return !s.empty() && s.size() <= 2 && s.front() != '0' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void check_folded(std::string_view text, const std::string& folded) {
  require(utf8::valid(folded));
  require(fold_keyword_text(folded) == folded);
  require(folded.empty() || (folded.front() != ' ' && folded.back() != ' '));
  require(folded.find("  ") == std::string::npos);
  require(std::none_of(folded.begin(), folded.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '\t' || c == '\r' || c == '\n';
  }));
  require(folded.size() <= text.size() * 3 + 3);  // U+FFFD for each stray octet at most
}

void check_request(const Keywords& keywords, const std::string& folded, const Request& r,
                   bool from_merchant) {
  if (!r.understood) {
    require(r.command == Command::help && r.argument.empty());
    require(!changes_something(r));
    return;
  }
  require(from_merchant || r.command != Command::verify);
  if (r.command == Command::verify && r.argument == folded &&
      check_voucher_code(folded) != CodeCheck::bad_format)
    return;  // a merchant's bare code
  bool found = false;
  for (const auto& word : keywords.words(r.command)) {
    require(!word.empty() && fold_keyword_text(word) == word);
    if (folded.compare(0, word.size(), word) != 0) continue;
    std::string_view rest = std::string_view(folded).substr(word.size());
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (r.command == Command::merchants) {
      found = found || (r.argument.empty() && rest.empty()) || r.argument == "ktv" ||
              r.argument == "cinema";
    } else {
      found = found || rest == r.argument;
    }
  }
  require(found);
  switch (r.command) {
    case Command::my_vouchers: require(r.argument.empty() || is_page(r.argument)); break;
    case Command::merchants:
      require(r.argument.empty() || r.argument == "ktv" || r.argument == "cinema");
      break;
    case Command::redeem:
    case Command::verify: break;
    default: require(r.argument.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Keywords keywords;
  if (const auto cut = input.rfind('\x1f'); cut != std::string_view::npos) {
    const auto lines = split(input.substr(0, cut), '\n');
    for (std::size_t k = 0; k < lines.size() && k < 32; ++k)
      keywords.set(kCommands[k % 9], split(lines[k], '|'));
    input.remove_prefix(cut + 1);
  }
  for (Command c : kCommands)
    for (const auto& word : keywords.words(c)) require(!word.empty());

  const std::string folded = fold_keyword_text(input);
  check_folded(input, folded);
  const Request member = keywords.parse(input, false);
  const Request merchant = keywords.parse(input, true);
  check_request(keywords, folded, member, false);
  check_request(keywords, folded, merchant, true);
  for (bool from_merchant : {false, true}) {
    const Request again = keywords.parse(folded, from_merchant);
    const Request& first = from_merchant ? merchant : member;
    require(again.command == first.command && again.argument == first.argument &&
            again.understood == first.understood);
  }
  require(!member.understood || merchant.understood);
  return 0;
}
