#include <doctest/doctest.h>

#include "daemon/campaign/csv.hpp"
#include "daemon/campaign/table.hpp"

#include <sstream>

using namespace giftgate;

namespace {

std::vector<CsvRecord> read_all(std::string_view text, std::string* error = nullptr) {
  CsvReader reader(text);
  std::vector<CsvRecord> out;
  while (auto r = reader.next()) out.push_back(*r);
  if (error) *error = reader.error().empty() ? "" : std::to_string(reader.error_line()) + ": " + reader.error();
  return out;
}

}  // namespace

TEST_CASE("csv: quoting, CRLF, blank lines, a byte-order mark and line numbers") {
  std::string error;
  const auto rows = read_all(
      "\xEF\xBB\xBFid, name ,city\r\n"
      "1,\"Star KTV, Chaoyang\",beijing\r\n"
      "\r\n"
      "2,\"say \"\"hi\"\"\",\"two\nlines\"\n"
      "3,,x",
      &error);
  CHECK(error.empty());
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].fields == std::vector<std::string>{"id", "name", "city"});
  CHECK(rows[1].fields[1] == "Star KTV, Chaoyang");
  CHECK(rows[1].line == 2);
  CHECK(rows[2].line == 4);
  CHECK(rows[2].fields[1] == "say \"hi\"");
  CHECK(rows[2].fields[2] == "two\nlines");
  CHECK(rows[3].line == 6);
  CHECK(rows[3].fields == std::vector<std::string>{"3", "", "x"});
}

TEST_CASE("csv: broken quoting is an error with its line") {
  std::string error;
  read_all("a,b\n1,\"open\n2,3\n", &error);
  CHECK(error == "2: a quoted field is not closed");
  read_all("a,b\n1,x\"y\n", &error);
  CHECK(error == "2: a quote inside an unquoted field");
  read_all("a,b\n1,\"x\"y\n", &error);
  CHECK(error == "2: text after a closing quote");
}

TEST_CASE("csv: the header names the columns, checked") {
  CsvHeader h;
  const CsvRecord header{1, {"MSISDN", " City", "points"}};
  REQUIRE(h.parse(header, {"msisdn", "city"}, {"points"}));
  CHECK(h.index("city") == 1);
  CHECK(h.index("language") == -1);
  CHECK_FALSE(h.parse(CsvRecord{1, {"msisdn"}}, {"msisdn", "city"}, {}));
  CHECK(h.error() == "the header has no 'city' column (it needs msisdn, city)");
  CHECK_FALSE(h.parse(CsvRecord{1, {"msisdn", "city", "city"}}, {"msisdn", "city"}, {}));
  CHECK(h.error() == "column 'city' appears twice");
  CHECK(h.parse(CsvRecord{1, {"id", "offer_a"}}, {"id"}, {}, "offer_"));
  CHECK_FALSE(h.parse(CsvRecord{1, {"id", "offer_"}}, {"id"}, {}, "offer_"));
}

TEST_CASE("table: the same rows as a table, CSV and JSON") {
  Table t;
  t.add_column("city");
  t.add_column("issued", true);
  t.rows = {{"北京", "12"}, {"a, \"b\"", "3"}};
  std::ostringstream table, csv, json;
  print(table, t, Format::table);
  print(csv, t, Format::csv);
  print(json, t, Format::json);
  CHECK(table.str() == "city    issued\n------  ------\n北京        12\na, \"b\"       3\n");
  CHECK(csv.str() == "city,issued\n北京,12\n\"a, \"\"b\"\"\",3\n");
  CHECK(json.str() ==
        "[\n {\"city\": \"北京\", \"issued\": 12},\n {\"city\": \"a, \\\"b\\\"\", \"issued\": 3}\n]\n");
  Format f;
  CHECK(parse_format("json", &f));
  CHECK(f == Format::json);
  CHECK_FALSE(parse_format("xml", &f));
}
