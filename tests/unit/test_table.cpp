// Operators' output: what a value from outside may hold never reaches the
// terminal as it is, in a table, CSV or JSON.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "daemon/campaign/table.hpp"

using namespace giftgate;

namespace {

// A member's text that, shown raw, set the window title, cleared the screen
// and began a line that looked like another row.
const std::string kHostile =
    "hi\x1b]0;pwned\x07\x1b[2J\n2026-01-01T00:00:00Z  sms      balance  refund ok";

std::string printed(const Table& t, Format f) {
  std::ostringstream out;
  print(out, t, f);
  return out.str();
}

Table one_cell(const std::string& value) {
  Table t;
  t.add_column("text");
  t.add_column("n", true);
  t.rows.push_back({value, "7"});
  return t;
}

bool has_raw_control(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b < 0x20 && b != '\n') || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return true;  // a C1 control
    if (s.compare(i, 3, "\xE2\x80\xAE") == 0 || s.compare(i, 3, "\xE2\x81\xA6") == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("table: escape_text spells out controls, bidi overrides and bad bytes") {
  CHECK(escape_text("plain 积分 text") == "plain 积分 text");
  CHECK(escape_text("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  CHECK(escape_text("\x1b[2J\x07\x7f") == "\\x1b[2J\\x07\\x7f");
  CHECK(escape_text("C1 \xC2\x9B" "31m") == "C1 \\u009b31m");
  CHECK(escape_text("abc\xE2\x80\xAE" "fdp.exe") == "abc\\u202efdp.exe");
  CHECK(escape_text("\xE2\x81\xA6x\xE2\x81\xA9 \xE2\x80\x8E\xE2\x80\x8F\xD8\x9C") ==
        "\\u2066x\\u2069 \\u200e\\u200f\\u061c");
  CHECK(escape_text("line\xE2\x80\xA8sep") == "line\\u2028sep");
  // A backslash is doubled, so \x1b on the screen can only have been ESC.
  CHECK(escape_text("C:\\x1b") == "C:\\\\x1b");
  // Bytes that are not UTF-8 are shown by value; what follows them is kept.
  CHECK(escape_text("ok\xFF\xC3(\xE6\x88") == "ok\\xff\\xc3(\\xe6\\x88");
  CHECK(escape_text("\xC0\x80") == "\\xc0\\x80");  // overlong NUL
  CHECK(escape_text("\xED\xA0\x80") == "\\xed\\xa0\\x80");  // a surrogate
}

TEST_CASE("table: JSON escapes every control character and bidi control as \\u") {
  CHECK(escape_text("\x01\x1b\x7f\xC2\x85", Escaping::json) == "\\u0001\\u001b\\u007f\\u0085");
  CHECK(escape_text("q\"\\\n\t", Escaping::json) == "q\\\"\\\\\\n\\t");
  CHECK(escape_text("\xE2\x80\xAE\xE2\x80\xA8", Escaping::json) == "\\u202e\\u2028");
  CHECK(escape_text("积分", Escaping::json) == "积分");
  CHECK(escape_text("x\xFFy", Escaping::json) == "x\\\\xffy");
}

TEST_CASE("table: has_unprintable finds what escape_text would change, bar backslashes") {
  CHECK_FALSE(has_unprintable("Star KTV 星光 (Beijing) \\ ok"));
  CHECK(has_unprintable("a\nb"));
  CHECK(has_unprintable("\xE2\x80\xAE"));
  CHECK(has_unprintable("\xC2\x9B"));
  CHECK(has_unprintable("bad \xFF"));
}

TEST_CASE("table: a hostile value stays one cell of one row, in every format") {
  const Table t = one_cell(kHostile);
  const std::string table = printed(t, Format::table);
  CHECK_FALSE(has_raw_control(table));
  CHECK(std::count(table.begin(), table.end(), '\n') == 3);  // header, rule, one row
  CHECK(table.find("hi\\x1b]0;pwned\\x07\\x1b[2J\\n2026-01-01") != std::string::npos);

  const std::string csv = printed(t, Format::csv);
  CHECK_FALSE(has_raw_control(csv));
  CHECK(csv == "text,n\nhi\\x1b]0;pwned\\x07\\x1b[2J\\n2026-01-01T00:00:00Z  sms      balance  "
               "refund ok,7\n");
  // Escaped or not, a comma or a quote is still quoted as CSV says.
  CHECK(printed(one_cell("a,\"b\"\n"), Format::csv) == "text,n\n\"a,\"\"b\"\"\\n\",7\n");

  const std::string json = printed(t, Format::json);
  CHECK_FALSE(has_raw_control(json));
  CHECK(json == "[\n {\"text\": \"hi\\u001b]0;pwned\\u0007\\u001b[2J\\n2026-01-01T00:00:00Z  sms      "
                "balance  refund ok\", \"n\": 7}\n]\n");
  CHECK(printed(one_cell("\xE2\x80\xAE" "evil"), Format::json).find("\\u202eevil") !=
        std::string::npos);
}

TEST_CASE("table: a numeric column holding text is quoted in JSON, not written bare") {
  Table t;
  t.add_column("n", true);
  t.rows.push_back({"12"});
  t.rows.push_back({"-3.5"});
  t.rows.push_back({"1}, {\"admin\": true"});
  t.rows.push_back({""});
  CHECK(printed(t, Format::json) ==
        "[\n {\"n\": 12},\n {\"n\": -3.5},\n {\"n\": \"1}, {\\\"admin\\\": true\"},\n {\"n\": \"\"}\n]\n");
}

TEST_CASE("table: columns line up with escaped and wide text") {
  Table t;
  t.add_column("a");
  t.add_column("b");
  t.rows.push_back({"x\ty", "1"});
  t.rows.push_back({"积分", "2"});
  CHECK(printed(t, Format::table) == "a     b\n----  -\nx\\ty  1\n积分  2\n");
}

TEST_CASE("table: widths come from Unicode's width table") {
  CHECK(display_width("\u20AC") == 1);  // € is one column, not a wide character
  CHECK(display_width("\u4E2D") == 2);  // 中
  CHECK(display_width("\uFF21") == 2);  // a full-width A
  CHECK(display_width("\U0001F600") == 2);
  CHECK(display_width("\u0301") == 0);  // a combining acute accent
  CHECK(display_width("e\u0301") == 1);  // é written as e and the accent
  CHECK(display_width("\u200B") == 0);  // zero width space
  CHECK(display_width("\u00E9t\u00E9 \u20AC5") == 6);
  CHECK(display_width("\xFF") == 4);  // shown as \xff
}

TEST_CASE("table: columns of mixed text line up on a terminal") {
  Table t;
  t.add_column("name");
  t.add_column("value", true);
  t.rows.push_back({"\u20AC price", "5"});      // 7 columns
  t.rows.push_back({"\u4E2D\u6587", "10"});     // 4
  t.rows.push_back({"cafe\u0301", "200"});       // 4: the accent takes none
  t.rows.push_back({"\U0001F600 ok", "3"});     // 5
  CHECK(printed(t, Format::table) ==
        "name     value\n"
        "-------  -----\n"
        "\u20AC price      5\n"
        "\u4E2D\u6587        10\n"
        "cafe\u0301       200\n"
        "\U0001F600 ok        3\n");
}
