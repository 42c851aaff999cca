// The level reaches the sink, and under systemd the journal: with stderr the
// stream JOURNAL_STREAM names, each line starts with its syslog priority
// (sd-daemon(3)); otherwise lines are as they were. The variable's value is
// handed in, so the process's environment is never changed.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "protocol/log.hpp"

using namespace giftgate::log;

namespace {

// A file to stand for stderr, and what JOURNAL_STREAM would say of it.
struct Stream {
  std::FILE* file = std::tmpfile();
  ~Stream() {
    if (file) std::fclose(file);
  }
  std::string journal_stream() const {
    struct stat st {};
    REQUIRE(::fstat(::fileno(file), &st) == 0);
    return fmt::format("{}:{}", static_cast<std::uintmax_t>(st.st_dev),
                       static_cast<std::uintmax_t>(st.st_ino));
  }
  std::string text() const {
    std::fflush(file);
    std::rewind(file);
    std::string out;
    char buffer[512];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) out.append(buffer, n);
    return out;
  }
};

void log_each_level(const std::shared_ptr<Sink>& sink) {
  Logger logger(sink, Level::debug);
  logger.debug("d");
  logger.info("i", {{"k", "v"}});
  logger.warning("w");
  logger.error("e");
}

}  // namespace

TEST_CASE("log: each line reaches the sink with its level") {
  auto sink = std::make_shared<MemorySink>();
  log_each_level(sink);
  Logger(sink, Level::warning).info("dropped");
  CHECK(sink->levels() ==
        std::vector<Level>{Level::debug, Level::info, Level::warning, Level::error});
  CHECK(sink->lines().size() == 4);
}

TEST_CASE("log: under systemd each line carries its syslog priority") {
  Stream stream;
  REQUIRE(stream.file);
  const std::string journal = stream.journal_stream();
  auto sink = std::make_shared<StderrSink>(stream.file, journal.c_str());
  CHECK(sink->to_journal());
  log_each_level(sink);
  CHECK(stream.text() ==
        "<7>level=debug event=d\n"
        "<6>level=info event=i k=v\n"
        "<4>level=warning event=w\n"
        "<3>level=error event=e\n");
}

TEST_CASE("log: without JOURNAL_STREAM lines are plain") {
  Stream stream;
  REQUIRE(stream.file);
  auto sink = std::make_shared<StderrSink>(stream.file, nullptr);
  CHECK_FALSE(sink->to_journal());
  log_each_level(sink);
  CHECK(stream.text() ==
        "level=debug event=d\n"
        "level=info event=i k=v\n"
        "level=warning event=w\n"
        "level=error event=e\n");
}

TEST_CASE("log: JOURNAL_STREAM naming another stream leaves lines plain") {
  // Inherited by a process whose stderr goes elsewhere (a pipe to a test, a
  // terminal): the journal is not there to read the priorities.
  Stream stream, other;
  REQUIRE(stream.file);
  REQUIRE(other.file);
  const std::string elsewhere = other.journal_stream();
  auto sink = std::make_shared<StderrSink>(stream.file, elsewhere.c_str());
  CHECK_FALSE(sink->to_journal());
  Logger(sink, Level::info).error("e");
  CHECK(stream.text() == "level=error event=e\n");
  const std::string mine = stream.journal_stream();
  for (const std::string& bad : {std::string(), std::string("journal"), mine + "x",
                                 mine.substr(0, mine.find(':')), ":" + mine}) {
    CAPTURE(bad);
    CHECK_FALSE(is_journal_stream(bad.c_str(), ::fileno(stream.file)));
  }
  CHECK(is_journal_stream(mine.c_str(), ::fileno(stream.file)));
  CHECK_FALSE(is_journal_stream(mine.c_str(), -1));
}

TEST_CASE("log: the syslog priorities of sd-daemon(3)") {
  CHECK(syslog_prefix(Level::error) == "<3>");    // LOG_ERR
  CHECK(syslog_prefix(Level::warning) == "<4>");  // LOG_WARNING
  CHECK(syslog_prefix(Level::info) == "<6>");     // LOG_INFO
  CHECK(syslog_prefix(Level::debug) == "<7>");    // LOG_DEBUG
}
