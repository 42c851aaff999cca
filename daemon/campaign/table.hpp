// Output for operators: the same rows as an aligned table (for a terminal),
// CSV (for spreadsheets) or JSON (for scripts).
//
// What the rows hold came, much of it, from outside: members' texts,
// imported names, receipts' error texts. None of it reaches the operator's
// terminal as it is: every value goes through escape_text, so a text cannot
// move the cursor, set the window title, clear the screen, reorder a line
// with bidirectional overrides, or start a line that looks like a row of
// the table.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate {

struct Table {
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // per column: right-aligned, and a number in JSON
  std::vector<std::vector<std::string>> rows;

  void add_column(std::string name, bool is_number = false) {
    columns.push_back(std::move(name));
    numeric.push_back(is_number);
  }
};

enum class Format { table, csv, json };

// Whether `v` is a plain decimal number (-12, 3.50): what JSON takes bare
// and a spreadsheet reads as a number.
bool plain_number(std::string_view v);

// "table", "csv" or "json"; false for anything else.
bool parse_format(std::string_view name, Format* format);

// Writes the table; every column name and value is escaped (escape_text),
// in CSV then quoted as RFC 4180 says where it has a comma or a quote.
void print(std::ostream& out, const Table& table, Format format);

// The columns a terminal gives text, from Unicode's width table (utf8proc):
// wide and full-width characters (CJK, most emoji) two, combining marks and
// other characters of no width none, the rest (€ included) one; a byte that
// is not UTF-8 four, as escape_text shows it (\xNN).
std::size_t display_width(std::string_view utf8);

// How escape_text writes what it escapes.
enum class Escaping {
  // For a terminal, a table or CSV: \n \t \r, \\ for a backslash, \x1b for the
  // other C0 controls and DEL, \u009b for C1 controls, \u202e for
  // bidirectional controls and separators, \xNN for a byte that is not UTF-8.
  text,
  // The inside of a JSON string: the same characters as JSON escapes
  // (\u001b, \u202e, \n, \", \\), a byte that is not UTF-8 as the text \xNN.
  json,
};

// `text` safe to show: valid UTF-8 with no control characters (C0, DEL,
// C1), no bidirectional marks, embeddings, overrides or isolates (U+061C,
// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and no line or paragraph
// separators (U+2028, U+2029); each of those, and a backslash, written
// escaped instead. Everything giftctl shows goes through it.
std::string escape_text(std::string_view text, Escaping style = Escaping::text);

// Whether escape_text would have to escape anything but a backslash: text
// that is not UTF-8 or holds any of the characters above. Imports refuse
// such names, which would break the lines of an SMS.
bool has_unprintable(std::string_view text);

}  // namespace giftgate
