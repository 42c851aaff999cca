// Structured log lines: what reaches the sink, what the threshold drops, and
// that every value stays one parseable key=value pair whatever it contains.
#include "protocol/log.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

using namespace giftgate::log;

namespace {

std::string field(std::string_view key, std::string_view value) {
  std::string out;
  append_field(out, key, value);
  return out;
}

}  // namespace

TEST_CASE("log: MemorySink captures each line in order") {
  auto sink = std::make_shared<MemorySink>();
  Logger logger(sink, Level::debug);
  logger.info("bind_ok", {{"system_id", "smsc1"}, {"window", 10}});
  logger.error("bind_failed");
  const auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "level=info event=bind_ok system_id=smsc1 window=10");
  CHECK(lines[1] == "level=error event=bind_failed");
  CHECK(sink->contains("window=10"));
  CHECK(sink->contains("event=bind_failed"));
  CHECK_FALSE(sink->contains("warning"));
}

TEST_CASE("log: events below the threshold are dropped") {
  auto sink = std::make_shared<MemorySink>();
  Logger logger(sink, Level::warning);
  CHECK(logger.threshold() == Level::warning);
  CHECK_FALSE(logger.enabled(Level::debug));
  CHECK_FALSE(logger.enabled(Level::info));
  CHECK(logger.enabled(Level::warning));
  CHECK(logger.enabled(Level::error));

  logger.debug("d");
  logger.info("i");
  logger.warning("w");
  logger.error("e");
  logger.write(Level::info, "i2");
  logger.write(Level::error, "e2");
  const auto lines = sink->lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "level=warning event=w");
  CHECK(lines[1] == "level=error event=e");
  CHECK(lines[2] == "level=error event=e2");
}

TEST_CASE("log: debug threshold lets everything through") {
  auto sink = std::make_shared<MemorySink>();
  Logger logger(sink, Level::debug);
  logger.debug("d");
  logger.info("i");
  logger.warning("w");
  logger.error("e");
  CHECK(sink->lines().size() == 4);
  CHECK(sink->lines()[0] == "level=debug event=d");
}

TEST_CASE("log: a child's context is on every line it writes") {
  auto sink = std::make_shared<MemorySink>();
  Logger root(sink, Level::info);
  const Logger conn = root.child({{"peer", "10.0.0.1:2775"}, {"bind", "smsc1"}});
  conn.info("connected");
  conn.warning("throttled", {{"retry_ms", 500}});
  root.info("plain");
  const Logger sub = conn.child({{"seq", 7}});
  sub.error("timeout");

  const auto lines = sink->lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "level=info event=connected peer=10.0.0.1:2775 bind=smsc1");
  CHECK(lines[1] == "level=warning event=throttled peer=10.0.0.1:2775 bind=smsc1 retry_ms=500");
  CHECK(lines[2] == "level=info event=plain");
  CHECK(lines[3] == "level=error event=timeout peer=10.0.0.1:2775 bind=smsc1 seq=7");
}

TEST_CASE("log: a child keeps its parent's threshold") {
  auto sink = std::make_shared<MemorySink>();
  const Logger child = Logger(sink, Level::error).child({{"peer", "x"}});
  CHECK(child.threshold() == Level::error);
  child.warning("dropped");
  child.error("kept");
  REQUIRE(sink->lines().size() == 1);
  CHECK(sink->lines()[0] == "level=error event=kept peer=x");
}

TEST_CASE("log: a logger without a sink writes nothing and does not crash") {
  // Nothing may reach stderr (the default sink's place): fd 2 goes to a file
  // while the logger writes, then comes back.
  std::FILE* capture = std::tmpfile();
  REQUIRE(capture);
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(::fileno(capture), 2) == 2);
  Logger logger(nullptr, Level::debug);
  logger.error("nowhere", {{"k", "v"}});
  const Logger child = logger.child({{"a", 1}});
  child.info("still nowhere");
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fseek(capture, 0, SEEK_END);
  CHECK(std::ftell(capture) == 0);
  std::fclose(capture);
  CHECK(logger.enabled(Level::debug));  // dropped for want of a sink, not by the threshold
  CHECK(child.threshold() == Level::debug);
}

TEST_CASE("log: plain values are written bare") {
  CHECK(field("k", "value") == " k=value");
  CHECK(field("id", "AE12098765") == " id=AE12098765");
  CHECK(field("path", "/etc/giftgate.yaml") == " path=/etc/giftgate.yaml");
}

TEST_CASE("log: values that would break the line are quoted") {
  CHECK(field("k", "") == " k=\"\"");
  CHECK(field("k", "two words") == " k=\"two words\"");
  CHECK(field("k", "say \"hi\"") == " k=\"say \\\"hi\\\"\"");
  CHECK(field("k", "a=b") == " k=\"a=b\"");
  CHECK(field("k", "back\\slash") == " k=\"back\\\\slash\"");
  CHECK(field("k", "line1\nline2") == " k=\"line1\\x0aline2\"");
  CHECK(field("k", "cr\r") == " k=\"cr\\x0d\"");
  CHECK(field("k", "tab\there") == " k=\"tab\\x09here\"");
  CHECK(field("k", std::string_view("nul\0x", 5)) == " k=\"nul\\x00x\"");
  CHECK(field("k", "bell\x07") == " k=\"bell\\x07\"");
  CHECK(field("k", "del\x7f") == " k=\"del\\x7f\"");
}

TEST_CASE("log: a forged event cannot be injected through a value") {
  auto sink = std::make_shared<MemorySink>();
  Logger logger(sink, Level::info);
  logger.info("mo_received", {{"text", "hi\nlevel=error event=fake"}});
  const auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find('\n') == std::string::npos);
  CHECK(lines[0] == "level=info event=mo_received text=\"hi\\x0alevel=error event=fake\"");
}

TEST_CASE("log: UTF-8 text is passed through unquoted") {
  CHECK(field("city", "\xE5\x8C\x97\xE4\xBA\xAC") == " city=\xE5\x8C\x97\xE4\xBA\xAC");
}

TEST_CASE("log: Field formats its value at construction") {
  CHECK(Field("k", true).value == "true");
  CHECK(Field("k", false).value == "false");
  CHECK(Field("k", 42).value == "42");
  CHECK(Field("k", -7).value == "-7");
  CHECK(Field("k", std::uint64_t{18446744073709551615u}).value == "18446744073709551615");
  CHECK(Field("k", 1.5).value == "1.500");
  CHECK(Field("k", static_cast<const char*>(nullptr)).value.empty());
  CHECK(Field("k", std::string("s")).value == "s");
  CHECK(Field("k", std::string_view("sv")).value == "sv");
}

TEST_CASE("log: parse_level accepts the four names") {
  Level level = Level::error;
  CHECK(parse_level("debug", level));
  CHECK(level == Level::debug);
  CHECK(parse_level("info", level));
  CHECK(level == Level::info);
  CHECK(parse_level("warning", level));
  CHECK(level == Level::warning);
  CHECK(parse_level("error", level));
  CHECK(level == Level::error);
}

TEST_CASE("log: parse_level rejects anything else and leaves the level alone") {
  Level level = Level::warning;
  for (std::string_view text : {"", "INFO", "warn", "err", "trace", " info", "info "}) {
    CAPTURE(text);
    CHECK_FALSE(parse_level(text, level));
    CHECK(level == Level::warning);
  }
}

TEST_CASE("log: level names round-trip") {
  for (Level level : {Level::debug, Level::info, Level::warning, Level::error}) {
    Level parsed = Level::debug;
    REQUIRE(parse_level(to_string(level), parsed));
    CHECK(parsed == level);
  }
}
