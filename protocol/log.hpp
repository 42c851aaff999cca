// Structured logging: one line per event, a constant event name followed by
// key=value details, written to a sink (stderr by default). Each line
// reaches the sink with its level; under systemd the stderr sink hands the
// level on to the journal as the line's syslog priority.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate::log {

// Severity of an event; events below a logger's threshold are not formatted.
enum class Level { debug, info, warning, error };

// Parses "debug", "info", "warning" or "error"; false for anything else.
bool parse_level(std::string_view text, Level& out);

// Name of a level as written in log lines.
std::string_view to_string(Level level);

// One key=value detail of an event; the value is formatted at construction.
struct Field {
  std::string_view key;
  std::string value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
};

// Where finished lines go, each with its event's level. Implementations must
// be safe to call from several threads; the logger does not serialise calls
// itself.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(Level level, std::string_view line) = 0;
};

// The syslog priority of a level as sd-daemon(3) prefixes a line with it:
// "<3>" error, "<4>" warning, "<6>" info, "<7>" debug.
std::string_view syslog_prefix(Level level);

// Whether the stream on file descriptor fd is the journal's: systemd sets
// JOURNAL_STREAM to "device:inode" of the stream it connects to a
// service's stderr, so a process whose stderr was redirected elsewhere (a
// child given a pipe, a shell started from a unit) is told apart. Takes the
// variable's value (null when unset) rather than reading the environment,
// so that tests need not change it.
bool is_journal_stream(const char* journal_stream, int fd);

// A sink writing each line to stderr (or another stream) under a mutex.
// When that stream is the journal's, each line starts with its level's
// syslog priority, which journald takes as the entry's priority and
// removes: journalctl -p warning then shows warnings and errors alone.
class StderrSink final : public Sink {
 public:
  // stderr, with priorities when JOURNAL_STREAM names it.
  StderrSink();
  // `out`, with priorities when journal_stream (JOURNAL_STREAM's value, or
  // null) names it.
  StderrSink(std::FILE* out, const char* journal_stream);

  // Whether lines carry their syslog priority.
  bool to_journal() const { return journal_; }

  void write(Level level, std::string_view line) override;

 private:
  std::FILE* out_;
  bool journal_;
  std::mutex mutex_;
};

// A sink keeping lines in memory with their levels, for tests that check
// what was logged.
class MemorySink final : public Sink {
 public:
  void write(Level level, std::string_view line) override;
  std::vector<std::string> lines() const;
  std::vector<Level> levels() const;  // each line's, in the same order
  bool contains(std::string_view needle) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<Level> levels_;
};

// A cheap-to-copy handle that formats events and hands them to a sink. A child
// logger carries extra context fields (a connection's peer, a bind's name) on
// every line it writes.
class Logger {
 public:
  Logger();
  Logger(std::shared_ptr<Sink> sink, Level threshold);

  // A logger writing to the same sink with extra context on every line.
  Logger child(std::initializer_list<Field> context) const;

  bool enabled(Level level) const { return level >= threshold_; }
  Level threshold() const { return threshold_; }

  void write(Level level, std::string_view event,
             std::initializer_list<Field> fields = {}) const;
  void debug(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::debug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::info, event, fields);
  }
  void warning(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::warning, event, fields);
  }
  void error(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::error, event, fields);
  }

 private:
  std::shared_ptr<Sink> sink_;
  Level threshold_ = Level::info;
  std::string context_;  // already formatted " key=value" pairs
};

// Appends " key=value" to out, quoting the value when it holds spaces, quotes,
// '=' or control characters so that every line stays parseable.
void append_field(std::string& out, std::string_view key, std::string_view value);

}  // namespace giftgate::log
