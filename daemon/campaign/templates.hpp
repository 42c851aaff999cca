// The texts of every SMS the gateway sends, from templates/messages.yaml:
// one entry per message, one text per language, with named placeholders
// ({code}, {balance}, ...) filled by fmt. No reply is written in code.
//
// Loading checks the whole file before it replaces anything: an unknown
// message or placeholder, a missing language, a text fmt cannot format, and
// a text that would need more than the configured SMS parts when filled with
// the longest plausible values are each refused with file, line and reason.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace giftgate {

inline constexpr const char* kLanguages[] = {"zh", "en"};

// A value for each placeholder used, by name.
using TemplateValues = std::vector<std::pair<std::string, std::string>>;

// What one kind of template file must hold: every entry with the
// placeholders it may use, which placeholders hold lists of another entry,
// and the size check a filled text must pass. The SMS messages are one
// catalogue, the USSD screens another.
struct TemplateCatalogue {
  struct Entry {
    std::string name;
    std::vector<std::string> placeholders;
  };
  struct List {
    std::string item;  // the entry each line of the list is filled from
    int lines = 1;     // how many of them the size check puts in
  };
  std::string kind = "message";  // in errors: "message 'help'", "screen 'main'"
  std::vector<Entry> entries;
  // Optional entries, any number: a name that starts with a family's name
  // (a prefix such as "push_") and goes on in lower-case letters, digits
  // and '_' may use that family's placeholders.
  std::vector<Entry> families;
  std::map<std::string, List, std::less<>> lists;  // by placeholder
  // Empty when a text filled with the longest plausible values fits; else
  // why not ("4 SMS parts ..., more than the 3 allowed").
  std::function<std::string(const std::string& filled)> too_long;
  // Text appended to an entry's filled text for the size check (a USSD
  // page's "more" line), by entry name; the entry named is rendered.
  std::map<std::string, std::string, std::less<>> check_with;
  // Whether the file may name cities and merchant kinds (`cities:` and
  // `kinds:` sections, see Templates::name_of).
  bool names = false;
  // Placeholders whose values may be in any script (merchants' names and
  // offers, as imported): the size check is run a second time with each of
  // them in Chinese of the same length, which makes a GSM 7-bit text UCS-2.
  std::vector<std::string> any_script;

  const Entry* find(std::string_view name) const;
};

// The longest value a placeholder plausibly takes, for size checks.
std::string longest_value(std::string_view placeholder);

// How much room a value takes in a text: GSM 7-bit septets when every
// character is in that alphabet (extension characters such as the euro
// sign and brackets count two), else UTF-16 units (an emoji counts two);
// nullopt when it is not UTF-8. A value no longer than a placeholder's
// longest_value by this measure fits wherever the size checks put that.
std::optional<std::size_t> value_length(std::string_view value);

// The longest merchant name ({name}, {merchant}) and offers line ({offers}:
// "A: 5 hours; B: 2 hours", see offers_line) the size checks assume, by
// value_length. Imports refuse longer ones, so every message that shows a
// merchant fits in the parts allowed.
inline constexpr std::size_t kMerchantNameMax = 30;
inline constexpr std::size_t kMerchantOffersMax = 80;

class Templates {
 public:
  // Parses a messages file; `source` names it in errors. max_parts: the
  // most SMS parts any filled message may take.
  static std::shared_ptr<const Templates> parse(std::string_view text, const std::string& source,
                                                std::size_t max_parts, std::string* error);
  static std::shared_ptr<const Templates> load(const std::string& path, std::size_t max_parts,
                                               std::string* error);
  // The same for a file of another catalogue (the USSD menus).
  static std::shared_ptr<const Templates> parse(std::string_view text, const std::string& source,
                                                const TemplateCatalogue& catalogue,
                                                std::string* error);
  static std::shared_ptr<const Templates> load(const std::string& path,
                                               const TemplateCatalogue& catalogue,
                                               std::string* error);

  // The filled text of `name` in `language` (falling back to zh). Values for
  // placeholders the text does not use are ignored; a placeholder without a
  // value is left empty. Throws std::out_of_range for an unknown name.
  std::string render(std::string_view name, std::string_view language,
                     const TemplateValues& values) const;

  // How {city} and {kind} show a city or a merchant kind (as imported:
  // "beijing", "cinema") in `language`: its name from the messages file's
  // `cities:` or `kinds:` section, or the id itself when that does not name
  // it. placeholder: "city" or "kind".
  std::string name_of(std::string_view placeholder, std::string_view id,
                      std::string_view language) const;

  bool has(std::string_view name) const { return texts_.count(std::string(name)) > 0; }
  // The names of the texts defined that start with `prefix` ("push_").
  std::vector<std::string> names_starting(std::string_view prefix) const;
  std::size_t max_parts() const { return max_parts_; }

  // The names every messages file must define, and the placeholders each may
  // use (for `giftctl templates` and the docs).
  static std::vector<std::pair<std::string, std::vector<std::string>>> catalogue();

 private:
  static std::shared_ptr<Templates> build(std::string_view text, const std::string& source,
                                          const TemplateCatalogue& catalogue, std::string* error);

  std::map<std::string, std::map<std::string, std::string>, std::less<>> texts_;
  // Placeholder ("city", "kind") -> id -> language -> name.
  using Names = std::map<std::string, std::map<std::string, std::string>, std::less<>>;
  std::map<std::string, Names, std::less<>> names_;
  std::size_t max_parts_ = 3;
};

}  // namespace giftgate
