// What a member's or merchant's SMS asks for. The keywords come from the
// configuration (Chinese and Latin forms); matching ignores case, surrounding
// spaces and full-width forms, as Chinese input methods type them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate {

enum class Command {
  help,          // also anything not understood
  balance,
  redeem,        // argument: the tier
  confirm,
  my_vouchers,   // argument: the page ("2"), or empty for the first
  merchants,     // argument: "ktv", "cinema" or empty
  opt_out,
  opt_in,
  verify,        // argument: the code as typed (merchants only)
};

// The configuration's names for the commands ("balance", "redeem", ...).
std::string_view command_name(Command c);
bool command_from_name(std::string_view name, Command* c);

struct Request {
  Command command = Command::help;
  std::string argument;
  bool understood = false;  // false: help because nothing matched
};

// Whether a request changes something (points, a voucher, an offer, the
// member's consent), rather than asking a question.
bool changes_something(const Request& request);

class Keywords {
 public:
  // The defaults of conf/giftgate.yaml.
  Keywords();
  // Replaces the words of one command (as configured).
  void set(Command command, std::vector<std::string> words);
  const std::vector<std::string>& words(Command command) const;

  // Reads an SMS body. A merchant's number may also send a bare code.
  Request parse(std::string_view text, bool from_merchant) const;

 private:
  std::map<Command, std::vector<std::string>> words_;  // folded forms
};

// Full-width ASCII to ASCII, the ideographic space to a space, Latin letters
// upper case, spaces at both ends trimmed and runs of them made one.
std::string fold_keyword_text(std::string_view text);

}  // namespace giftgate
