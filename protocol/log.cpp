#include "protocol/log.hpp"

#include <sys/stat.h>

#include <cinttypes>
#include <cstdlib>

#include <fmt/format.h>

namespace giftgate::log {

Field::Field(std::string_view k, double v) : key(k), value(fmt::format("{:.3f}", v)) {}

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug") out = Level::debug;
  else if (text == "info") out = Level::info;
  else if (text == "warning") out = Level::warning;
  else if (text == "error") out = Level::error;
  else return false;
  return true;
}

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "unknown";
}

std::string_view syslog_prefix(Level level) {
  switch (level) {
    case Level::debug: return "<7>";
    case Level::info: return "<6>";
    case Level::warning: return "<4>";
    case Level::error: return "<3>";
  }
  return "<6>";
}

bool is_journal_stream(const char* journal_stream, int fd) {
  if (!journal_stream || fd < 0) return false;
  std::uintmax_t device = 0, inode = 0;
  int used = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX "%n", &device, &inode, &used) != 2 ||
      journal_stream[used] != '\0')
    return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<std::uintmax_t>(st.st_dev) == device &&
         static_cast<std::uintmax_t>(st.st_ino) == inode;
}

// Read once, at construction: giftgated makes its sink before any thread
// starts, and nothing changes the environment afterwards.
StderrSink::StderrSink() : StderrSink(stderr, std::getenv("JOURNAL_STREAM")) {}

StderrSink::StderrSink(std::FILE* out, const char* journal_stream)
    : out_(out), journal_(out && is_journal_stream(journal_stream, ::fileno(out))) {}

void StderrSink::write(Level level, std::string_view line) {
  if (!out_) return;
  std::lock_guard lock(mutex_);
  if (journal_) {
    const std::string_view prefix = syslog_prefix(level);
    std::fwrite(prefix.data(), 1, prefix.size(), out_);
  }
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
}

void MemorySink::write(Level level, std::string_view line) {
  std::lock_guard lock(mutex_);
  lines_.emplace_back(line);
  levels_.push_back(level);
}

std::vector<std::string> MemorySink::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::vector<Level> MemorySink::levels() const {
  std::lock_guard lock(mutex_);
  return levels_;
}

bool MemorySink::contains(std::string_view needle) const {
  std::lock_guard lock(mutex_);
  for (const auto& line : lines_)
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

Logger::Logger() : sink_(std::make_shared<StderrSink>()) {}

Logger::Logger(std::shared_ptr<Sink> sink, Level threshold)
    : sink_(std::move(sink)), threshold_(threshold) {}

Logger Logger::child(std::initializer_list<Field> context) const {
  Logger copy = *this;
  for (const auto& f : context) append_field(copy.context_, f.key, f.value);
  return copy;
}

void Logger::write(Level level, std::string_view event,
                   std::initializer_list<Field> fields) const {
  if (!enabled(level) || !sink_) return;
  std::string line;
  line.reserve(96);
  line += "level=";
  line += to_string(level);
  line += " event=";
  line += event;
  line += context_;
  for (const auto& f : fields) append_field(line, f.key, f.value);
  sink_->write(level, line);
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  bool quote = value.empty();
  for (unsigned char c : value)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
      quote = true;
      break;
    }
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

}  // namespace giftgate::log
