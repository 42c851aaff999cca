#include "daemon/campaign/audience.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/table.hpp"
#include "protocol/charset.hpp"

namespace giftgate {
namespace {

using smpp::ascii_lower;

// The conditions, in the order errors and the help list them.
constexpr std::string_view kConditions =
    "all, city, language, balance, affords, has_voucher, no_voucher, expiring_within, "
    "imported_since, imported_before, active_since";

// A city or language is written bare when it is an id (a-z, 0-9, _ and -)
// and in quotes otherwise: imports store a city as given, only ASCII
// lower-cased, so quotes reach every one. No city's name comes near this.
constexpr std::size_t kValueMaxChars = 64;

// Beyond ten years "expiring within" means every unused voucher; a bound
// keeps now + N days inside what a Time can hold.
constexpr std::int64_t kMaxDays = 3650;
// Points beyond this are no balance a member can have, and no overflow in
// parsing.
constexpr std::size_t kMaxNumberDigits = 15;

struct Token {
  enum class Kind { word, quoted, op, open, close, comma, end };
  Kind kind = Kind::end;
  std::string_view text;  // for quoted: what is between the quotes
  std::size_t offset = 0;  // in bytes, into the expression
};

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == ':';
}

bool id_chars(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Characters (UTF-8 sequences) before `offset`, plus one: what a person
// counts, also past a Chinese city name.
std::size_t char_position(std::string_view src, std::size_t offset) {
  std::size_t n = 1;
  for (std::size_t k = 0; k < offset && k < src.size(); ++k)
    if ((static_cast<unsigned char>(src[k]) & 0xC0) != 0x80) ++n;
  return n;
}

// A value for an operator to read in an error: escaped, so a control
// character typed by mistake cannot drive their terminal.
std::string shown(std::string_view text) { return escape_text(text); }

// How a value is written back: bare when it is an id, quoted otherwise (with
// the quote it does not contain: a quoted value never holds its own quote).
std::string spelled(std::string_view value) {
  if (id_chars(value)) return std::string(value);
  const char q = value.find('\'') == std::string_view::npos ? '\'' : '"';
  return fmt::format("{}{}{}", q, value, q);
}

// A condition, group or combination as it is built: its canonical text, its
// SQL (always parenthesised, so it combines without regard to precedence)
// and its parameters in the order of its '?'s.
struct Piece {
  enum class Shape { condition, group, negation, conjunction, disjunction };
  Shape shape = Shape::condition;
  std::string text;
  std::string sql;
  std::vector<AudienceParam> params;
};

class Parser {
 public:
  Parser(std::string_view src, const AudienceContext& ctx) : src_(src), ctx_(ctx) {}

  std::optional<Audience> run(std::string* error) {
    if (src_.size() > kAudienceMaxLength)
      return fail_at_start(error, fmt::format("the audience is {} bytes long, more than the {} "
                                              "allowed",
                                              src_.size(), kAudienceMaxLength));
    if (!tokenize()) return give_error(error);
    if (tokens_.front().kind == Token::Kind::end)
      return fail_at_start(error,
                           "the audience is empty: write 'all' for every member, or conditions");
    auto whole = disjunction();
    if (!whole) return give_error(error);
    const Token& t = peek();
    if (t.kind == Token::Kind::close) {
      fail(t, "')' without a matching '('");
      return give_error(error);
    }
    if (t.kind != Token::Kind::end) {
      fail(t, fmt::format("expected 'and', 'or' or the end, not {}", describe(t)));
      return give_error(error);
    }
    Audience a;
    a.text = std::move(whole->text);
    a.where = std::move(whole->sql);
    a.params = std::move(whole->params);
    return a;
  }

 private:
  std::optional<Audience> fail_at_start(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return std::nullopt;
  }
  std::optional<Audience> give_error(std::string* error) {
    if (error) *error = error_;
    return std::nullopt;
  }

  // Records the first error only: what follows it was read out of step.
  void fail_offset(std::size_t offset, std::string_view message) {
    if (failed_) return;
    failed_ = true;
    error_ = fmt::format("at {}: {}", char_position(src_, offset), message);
  }
  void fail(const Token& t, std::string_view message) { fail_offset(t.offset, message); }

  std::string describe(const Token& t) const {
    switch (t.kind) {
      case Token::Kind::end: return "the end";
      // As typed, in its own quotes.
      case Token::Kind::quoted: return shown(src_.substr(t.offset, t.text.size() + 2));
      default: return fmt::format("'{}'", shown(t.text));
    }
  }

  bool tokenize() {
    std::size_t k = 0;
    while (k < src_.size()) {
      const char c = src_[k];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++k;
        continue;
      }
      Token t;
      t.offset = k;
      if (word_char(c)) {
        std::size_t e = k;
        while (e < src_.size() && word_char(src_[e])) ++e;
        t.kind = Token::Kind::word;
        t.text = src_.substr(k, e - k);
        k = e;
      } else if (c == '\'' || c == '"') {
        const std::size_t close = src_.find(c, k + 1);
        if (close == std::string_view::npos) {
          fail_offset(k, fmt::format("the quote {} opened here is not closed", c));
          return false;
        }
        t.kind = Token::Kind::quoted;
        t.text = src_.substr(k + 1, close - k - 1);
        k = close + 1;
      } else if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? Token::Kind::open : c == ')' ? Token::Kind::close : Token::Kind::comma;
        t.text = src_.substr(k, 1);
        ++k;
      } else if (c == '=' || c == '<' || c == '>' || c == '!') {
        std::size_t len = 1;
        if (k + 1 < src_.size() &&
            (src_[k + 1] == '=' || (c == '<' && src_[k + 1] == '>')))
          len = 2;
        t.kind = Token::Kind::op;
        t.text = src_.substr(k, len);
        if (t.text == "!") {
          fail_offset(k, "unexpected '!': did you mean '!=' or 'not'?");
          return false;
        }
        k += len;
      } else {
        // The whole character, if it is one, for the message.
        std::size_t e = k + 1;
        while (e < src_.size() && (static_cast<unsigned char>(src_[e]) & 0xC0) == 0x80) ++e;
        const std::string_view ch = src_.substr(k, e - k);
        if (!has_unprintable(ch))
          fail_offset(k, fmt::format("unexpected '{}' (a value that is not lower-case letters, "
                                     "digits, _ or - goes in quotes)",
                                     ch));
        else
          fail_offset(k, fmt::format("unexpected byte 0x{:02x}", static_cast<unsigned char>(c)));
        return false;
      }
      tokens_.push_back(t);
    }
    Token end;
    end.offset = src_.size();
    tokens_.push_back(end);
    return true;
  }

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& take() {
    const Token& t = peek();
    if (next_ < tokens_.size() - 1) ++next_;
    return t;
  }
  static bool is_word(const Token& t, std::string_view lower) {
    return t.kind == Token::Kind::word && ascii_lower(t.text) == lower;
  }

  // or-ed and-groups: 'and' binds tighter.
  std::optional<Piece> disjunction() { return chain("or", "OR", Piece::Shape::disjunction); }
  std::optional<Piece> conjunction() { return chain("and", "AND", Piece::Shape::conjunction); }

  std::optional<Piece> chain(std::string_view word, std::string_view sql_word,
                             Piece::Shape shape) {
    const bool is_or = shape == Piece::Shape::disjunction;
    auto first = is_or ? conjunction() : negation();
    if (!first) return std::nullopt;
    if (!is_word(peek(), word)) return first;
    Piece p;
    p.shape = shape;
    p.text = std::move(first->text);
    p.sql = "(" + first->sql;
    p.params = std::move(first->params);
    while (is_word(peek(), word)) {
      take();
      auto next = is_or ? conjunction() : negation();
      if (!next) return std::nullopt;
      p.text += fmt::format(" {} {}", word, next->text);
      p.sql += fmt::format(" {} {}", sql_word, next->sql);
      p.params.insert(p.params.end(), std::make_move_iterator(next->params.begin()),
                      std::make_move_iterator(next->params.end()));
    }
    p.sql += ")";
    return p;
  }

  // Each 'not' and each '(' is one level deeper; the bound keeps the
  // recursion (and SQLite's expression depth) small whatever is typed.
  bool deeper(const Token& at) {
    if (++depth_ <= kAudienceMaxDepth) return true;
    fail(at, fmt::format("nested deeper than {} (parentheses and 'not' together)",
                         kAudienceMaxDepth));
    return false;
  }

  std::optional<Piece> negation() {
    if (!is_word(peek(), "not")) return primary();
    const Token& at = take();
    if (!deeper(at)) return std::nullopt;
    auto inner = negation();
    --depth_;
    if (!inner) return std::nullopt;
    Piece p;
    p.shape = Piece::Shape::negation;
    p.text = "not " + inner->text;
    p.sql = "(NOT " + inner->sql + ")";
    p.params = std::move(inner->params);
    return p;
  }

  std::optional<Piece> primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Token::Kind::open: {
        take();
        if (!deeper(t)) return std::nullopt;
        auto inner = disjunction();
        --depth_;
        if (!inner) return std::nullopt;
        const Token& close = peek();
        if (close.kind != Token::Kind::close) {
          fail(close, fmt::format("expected ')' to close the '(' at {}, not {}",
                                  char_position(src_, t.offset), describe(close)));
          return std::nullopt;
        }
        take();
        if (inner->shape == Piece::Shape::group) return inner;  // ((a)) is (a)
        inner->shape = Piece::Shape::group;
        inner->text = "(" + inner->text + ")";
        return inner;
      }
      case Token::Kind::word: return condition();
      case Token::Kind::close:
        fail(t, depth_ == 0 ? std::string("')' without a matching '('")
                            : fmt::format("expected a condition ({}) before ')'", kConditions));
        return std::nullopt;
      default:
        fail(t, fmt::format("expected a condition ({}), not {}", kConditions, describe(t)));
        return std::nullopt;
    }
  }

  std::optional<Piece> condition() {
    const Token& t = take();
    const std::string name = ascii_lower(t.text);
    if (name == "all") return Piece{Piece::Shape::condition, "all", "(1)", {}};
    if (name == "city" || name == "language") return in_list(name);
    if (name == "balance") return balance();
    if (name == "affords") return affords();
    if (name == "has_voucher" || name == "no_voucher") {
      Piece p;
      p.text = name;
      p.sql = fmt::format("({}EXISTS (SELECT 1 FROM vouchers v WHERE v.member_id = m.id AND "
                          "v.state = 'issued' AND v.expires_at > ?))",
                          name == "no_voucher" ? "NOT " : "");
      p.params.emplace_back(iso_time(ctx_.now));
      return p;
    }
    if (name == "expiring_within") return expiring();
    if (name == "imported_since" || name == "imported_before" || name == "active_since")
      return since(name);
    fail(t, fmt::format("unknown condition '{}': expected one of {}, 'not' or '('", shown(t.text),
                        kConditions));
    return std::nullopt;
  }

  // A value for city or language: an id bare, or anything printable in
  // quotes; compared in lower case, as imports store them.
  std::optional<std::string> value(std::string_view what) {
    const Token& t = peek();
    if (t.kind == Token::Kind::word) {
      take();
      std::string v = ascii_lower(t.text);
      if (!id_chars(v)) {
        fail(t, fmt::format("a {} written bare is lower-case letters, digits, _ or -, not '{}'; "
                            "put it in quotes",
                            what, shown(t.text)));
        return std::nullopt;
      }
      return v;
    }
    if (t.kind == Token::Kind::quoted) {
      take();
      // A quoted value never holds its own quote, so spelled() can always
      // write it back with one of the two.
      std::string v = ascii_lower(t.text);
      if (v.empty() || has_unprintable(v)) {
        fail(t, fmt::format("a {} in quotes must be printable text, not empty", what));
        return std::nullopt;
      }
      if (char_position(v, v.size()) - 1 > kValueMaxChars) {
        fail(t, fmt::format("a {} is at most {} characters", what, kValueMaxChars));
        return std::nullopt;
      }
      return v;
    }
    fail(t, fmt::format("expected a {} after {}, not {}", what,
                        describe(tokens_[next_ > 0 ? next_ - 1 : 0]), describe(t)));
    return std::nullopt;
  }

  std::optional<std::string> checked_value(std::string_view what) {
    const Token& at = peek();
    auto v = value(what);
    if (v && what == "language" && *v != "zh" && *v != "en") {
      fail(at, fmt::format("a language is zh or en, not '{}'", shown(*v)));
      return std::nullopt;
    }
    return v;
  }

  // city|language (= | != | in (..) | not in (..)) value
  std::optional<Piece> in_list(const std::string& what) {
    const std::string column = what == "city" ? "m.city" : "m.language";
    const Token& t = peek();
    Piece p;
    if (t.kind == Token::Kind::op && (t.text == "=" || t.text == "!=" || t.text == "<>")) {
      take();
      const bool equal = t.text == "=";
      auto v = checked_value(what);
      if (!v) return std::nullopt;
      p.text = fmt::format("{} {} {}", what, equal ? "=" : "!=", spelled(*v));
      p.sql = fmt::format("({} {} ?)", column, equal ? "=" : "<>");
      p.params.emplace_back(std::move(*v));
      return p;
    }
    bool negated = false;
    if (is_word(t, "not") && is_word(peek(1), "in")) {
      take();
      negated = true;
    }
    if (!is_word(peek(), "in")) {
      fail(peek(), fmt::format("expected =, != or in after '{}{}', not {}", what,
                               negated ? " not" : "", describe(peek())));
      return std::nullopt;
    }
    take();
    const Token& open = peek();
    if (open.kind != Token::Kind::open) {
      fail(open, fmt::format("expected '(' and a list of values after '{} {}in'", what,
                             negated ? "not " : ""));
      return std::nullopt;
    }
    take();
    std::vector<std::string> values;
    for (;;) {
      auto v = checked_value(what);
      if (!v) return std::nullopt;
      values.push_back(std::move(*v));
      const Token& sep = peek();
      if (sep.kind == Token::Kind::comma) {
        take();
        continue;
      }
      if (sep.kind == Token::Kind::close) {
        take();
        break;
      }
      fail(sep, fmt::format("expected ',' or ')' in the list after '{} {}in', not {}", what,
                            negated ? "not " : "", describe(sep)));
      return std::nullopt;
    }
    std::string marks;
    std::vector<std::string> texts;
    for (auto& v : values) {
      marks += marks.empty() ? "?" : ", ?";
      texts.push_back(spelled(v));
      p.params.emplace_back(std::move(v));
    }
    p.text = fmt::format("{} {}in ({})", what, negated ? "not " : "", fmt::join(texts, ", "));
    p.sql = fmt::format("({} {}IN ({}))", column, negated ? "NOT " : "", marks);
    return p;
  }

  // A whole number 0 or more, no larger than any balance can be.
  std::optional<std::int64_t> number(std::string_view digits) {
    if (!all_digits(digits) || digits.size() > kMaxNumberDigits) return std::nullopt;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return v;
  }

  static std::string balance_sql() {
    return "(SELECT COALESCE(SUM(l.delta), 0) FROM ledger l WHERE l.member_id = m.id)";
  }

  std::optional<Piece> balance() {
    const Token& op = peek();
    static constexpr std::string_view kOps[] = {">=", ">", "<=", "<", "="};
    if (op.kind != Token::Kind::op ||
        std::find(std::begin(kOps), std::end(kOps), op.text) == std::end(kOps)) {
      fail(op, fmt::format("expected >=, >, <, <= or = after 'balance', not {}", describe(op)));
      return std::nullopt;
    }
    take();
    const Token& n = peek();
    const auto v = n.kind == Token::Kind::word ? number(n.text) : std::nullopt;
    if (!v) {
      fail(n, fmt::format("expected a number after 'balance {}' (points, 0 to {} digits), not {}",
                          op.text, kMaxNumberDigits, describe(n)));
      return std::nullopt;
    }
    take();
    Piece p;
    p.text = fmt::format("balance {} {}", op.text, *v);
    p.sql = fmt::format("({} {} ?)", balance_sql(), op.text);
    p.params.emplace_back(*v);
    return p;
  }

  std::optional<Piece> affords() {
    const Token& t = peek();
    std::vector<std::string> names;
    for (const auto& tier : ctx_.campaign.tiers) names.push_back(tier.name);
    const std::string known =
        names.empty() ? std::string("the campaign has no tiers")
                      : fmt::format("the tiers are {}", fmt::join(names, ", "));
    if (t.kind != Token::Kind::word && t.kind != Token::Kind::quoted) {
      fail(t, fmt::format("expected a tier after 'affords', not {}; {}", describe(t), known));
      return std::nullopt;
    }
    take();
    const Tier* tier = ctx_.campaign.tier(t.text);
    if (!tier) {
      fail(t, fmt::format("no tier '{}': {}", shown(t.text), known));
      return std::nullopt;
    }
    Piece p;
    p.text = "affords " + (id_chars(ascii_lower(tier->name)) ? tier->name : spelled(tier->name));
    p.sql = fmt::format("({} >= ?)", balance_sql());
    p.params.emplace_back(tier->price);
    return p;
  }

  std::optional<Piece> expiring() {
    const Token& t = peek();
    std::string_view digits = t.kind == Token::Kind::word ? t.text : std::string_view();
    if (!digits.empty() && (digits.back() == 'd' || digits.back() == 'D'))
      digits.remove_suffix(1);
    const auto days = number(digits);
    if (!days || *days < 1 || *days > kMaxDays) {
      fail(t, fmt::format("expected a number of days (1 to {}, as 7 or 7d) after "
                          "'expiring_within', not {}",
                          kMaxDays, describe(t)));
      return std::nullopt;
    }
    take();
    Piece p;
    p.text = fmt::format("expiring_within {}d", *days);
    p.sql =
        "(EXISTS (SELECT 1 FROM vouchers v WHERE v.member_id = m.id AND v.state = 'issued' AND "
        "v.expires_at > ? AND v.expires_at <= ?))";
    p.params.emplace_back(iso_time(ctx_.now));
    p.params.emplace_back(iso_time(ctx_.now + std::chrono::days(*days)));
    return p;
  }

  static bool date_form(std::string_view s) {
    return s.size() == 10 && all_digits(s.substr(0, 4)) && s[4] == '-' &&
           all_digits(s.substr(5, 2)) && s[7] == '-' && all_digits(s.substr(8, 2));
  }
  static bool clock_form(std::string_view s) {
    return s.size() == 5 && all_digits(s.substr(0, 2)) && s[2] == ':' && all_digits(s.substr(3, 2));
  }

  // DATE: 2026-10-01, 2026-10-01 08:00 (bare or in quotes) or
  // 2026-10-01T08:00, on the clocks of the campaign's zone.
  std::optional<Piece> since(const std::string& name) {
    const Token& t = peek();
    std::string day;
    std::string clock;
    bool ok = false;
    if (t.kind == Token::Kind::word || t.kind == Token::Kind::quoted) {
      const std::string_view s = t.text;
      if (date_form(s)) {
        day = std::string(s);
        ok = true;
      } else if (const bool quoted = t.kind == Token::Kind::quoted;
                 s.size() == 16 && date_form(s.substr(0, 10)) &&
                 (s[10] == 'T' || s[10] == 't' || (s[10] == ' ' && quoted)) &&
                 clock_form(s.substr(11))) {
        day = std::string(s.substr(0, 10));
        clock = std::string(s.substr(11));
        ok = true;
      }
    }
    if (!ok) {
      fail(t, fmt::format("expected a date (YYYY-MM-DD or 'YYYY-MM-DD HH:MM') after '{}', not {}",
                          name, describe(t)));
      return std::nullopt;
    }
    take();
    if (t.kind == Token::Kind::word && clock.empty() && peek().kind == Token::Kind::word &&
        clock_form(peek().text))
      clock = std::string(take().text);
    const std::string wall = clock.empty() ? day : day + " " + clock;
    std::string why;
    const auto at = parse_local_time(wall, ctx_.zone, &why);
    if (!at) {
      if (!known_zone(ctx_.zone))
        fail(t, fmt::format("the campaign's time zone '{}' is not known", shown(ctx_.zone)));
      else if (!why.empty())
        fail(t, fmt::format("no such time as {}: {}", wall, why));
      else
        fail(t, fmt::format("{} is no date and time", wall));
      return std::nullopt;
    }
    Piece p;
    p.text = clock.empty() ? fmt::format("{} {}", name, day)
                           : fmt::format("{} '{} {}'", name, day, clock);
    if (name == "imported_since")
      p.sql = "(m.created_at >= ?)";
    else if (name == "imported_before")
      p.sql = "(m.created_at < ?)";
    else
      p.sql = "(EXISTS (SELECT 1 FROM inbox i WHERE i.msisdn = m.msisdn AND i.received_at >= ?))";
    p.params.emplace_back(iso_time(*at));
    return p;
  }

  std::string_view src_;
  const AudienceContext& ctx_;
  std::vector<Token> tokens_;
  std::size_t next_ = 0;
  int depth_ = 0;
  bool failed_ = false;
  std::string error_;
};

}  // namespace

void Audience::bind(db::Statement& st, int first_index) const {
  int index = first_index;
  for (const auto& p : params) {
    if (const auto* s = std::get_if<std::string>(&p))
      st.bind(index, *s);
    else
      st.bind(index, std::get<std::int64_t>(p));
    ++index;
  }
}

std::optional<Audience> parse_audience(std::string_view text, const AudienceContext& ctx,
                                       std::string* error) {
  return Parser(text, ctx).run(error);
}

std::string describe_audience_grammar() {
  return "An audience is conditions on members joined by 'and' and 'or' ('and' binds\n"
         "first), with 'not' and parentheses; keywords in any case:\n"
         "  all                          every member\n"
         "  city = ID, city != ID        also city in (ID, ...), city not in (ID, ...)\n"
         "  language = zh|en             also !=\n"
         "  balance >= N                 points now; also >, <, <=, =\n"
         "  affords TIER                 points enough for the tier's price\n"
         "  has_voucher, no_voucher      an unused voucher (issued, not expired), or none\n"
         "  expiring_within N[d]         an unused voucher expires within N days\n"
         "  imported_since DATE, imported_before DATE\n"
         "  active_since DATE            texted or used USSD since (inbox_days back at most)\n"
         "DATE is YYYY-MM-DD or 'YYYY-MM-DD HH:MM' in the campaign's time zone. A city\n"
         "that is not lower-case letters, digits, _ or - goes in quotes.\n"
         "Example: city in (beijing, shanghai) and affords B and not has_voucher\n";
}

}  // namespace giftgate
