#include "tests/support/sim_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

#ifndef GIFTGATE_NODE
#define GIFTGATE_NODE "node"
#endif
#ifndef GIFTGATE_SOURCE_DIR
#error "GIFTGATE_SOURCE_DIR must name the repository root"
#endif

namespace giftgate::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t stderr_keep = 40;

std::string node_path() {
  if (const char* env = std::getenv("GIFTGATE_NODE"); env != nullptr && *env != '\0') return env;
  return GIFTGATE_NODE;
}

std::string perl_path() {
  if (const char* env = std::getenv("GIFTGATE_PERL"); env != nullptr && *env != '\0') return env;
  return "/usr/bin/perl";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::strchr("-_.!~*'()", c) != nullptr;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string first_token(const std::string& line) {
  const auto start = line.find_first_not_of(' ');
  if (start == std::string::npos) return {};
  const auto end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The node simulator's command line; throws when it cannot run.
std::vector<std::string> node_command(const SimOptions& options) {
  const std::string node = node_path();
  if (node.empty() || node.find("NOTFOUND") != std::string::npos)
    throw std::runtime_error("smsc-sim: node was not found (set GIFTGATE_NODE)");
  const std::string dir = std::string(GIFTGATE_SOURCE_DIR) + "/scripts/smsc-sim";
  const std::string script = dir + "/smsc-sim.js";
  if (!exists(script)) throw std::runtime_error("smsc-sim: missing " + script);
  if (!exists(dir + "/node_modules/smpp"))
    throw std::runtime_error("smsc-sim: run `npm ci` in " + dir + " (scripts/bootstrap.sh does)");
  if (options.tls && (options.cert.empty() || options.key.empty()))
    throw std::runtime_error("smsc-sim: TLS needs a certificate and a key");
  std::vector<std::string> args{node, script, "--port", "0"};
  if (options.tls) {
    args.insert(args.end(), {"--tls", "--cert", options.cert, "--key", options.key});
  }
  return args;
}

// The Perl peer's command line; throws when it cannot run. Whether Net::SMPP
// is installed shows when it starts (it says so on stderr and exits).
std::vector<std::string> perl_command(const SimOptions& options) {
  const std::string perl = perl_path();
  if (!exists(perl))
    throw std::runtime_error("net-smpp-smsc: perl was not found at " + perl +
                             " (set GIFTGATE_PERL)");
  const std::string script = std::string(GIFTGATE_SOURCE_DIR) + "/tests/peers/net-smpp-smsc.pl";
  if (!exists(script)) throw std::runtime_error("net-smpp-smsc: missing " + script);
  if (options.tls)
    throw std::runtime_error("net-smpp-smsc: the Perl Net::SMPP peer does not support TLS");
  return {perl, script, "--port", "0"};
}

// Owns the three pipe pairs until the child is running.
struct Pipes {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  ~Pipes() {
    for (int* p : {in, out, err}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
  }
};

}  // namespace

SimProcess::SimProcess(const SimOptions& options)
    : tls_(options.tls),
      peer_(options.peer),
      name_(options.peer == SimOptions::Peer::perl_net_smpp ? "net-smpp-smsc" : "smsc-sim") {
  std::vector<std::string> args = peer_ == SimOptions::Peer::perl_net_smpp
                                      ? perl_command(options)
                                      : node_command(options);
  const std::string program = args.front();
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Close-on-exec everywhere, so that no other child (another simulator, a
  // test's own spawn) inherits these pipes and keeps them open.
  Pipes pipes;
  if (::pipe2(pipes.in, O_CLOEXEC) != 0 || ::pipe2(pipes.out, O_CLOEXEC) != 0 ||
      ::pipe2(pipes.err, O_CLOEXEC) != 0)
    throw std::runtime_error(name_ + ": pipe2: " + std::strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipes.in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, pipes.out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipes.err[1], 2);
  // The test program may ignore or block signals; the peer gets the defaults.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error(name_ + ": cannot start " + program + ": " + std::strerror(rc));
  }

  // The child's ends must close here, or its exit would never show as EOF.
  close_fd(pipes.in[0]);
  close_fd(pipes.out[1]);
  close_fd(pipes.err[1]);
  std::swap(stdin_fd_, pipes.in[1]);
  std::swap(stdout_fd_, pipes.out[0]);
  std::swap(stderr_fd_, pipes.err[0]);
  reader_ = std::thread([this] { pump(); });

  const auto ready = wait_for("ready", options.ready_timeout);
  std::string problem;
  if (!ready) {
    problem = name_ + ": no `ready` line within " + std::to_string(options.ready_timeout.count()) +
              " ms";
  } else {
    try {
      const int port = std::stoi(ready->fields.at("port"));
      if (port <= 0 || port > 65535) throw std::out_of_range("port");
      port_ = static_cast<unsigned short>(port);
    } catch (const std::exception&) {
      problem = name_ + ": bad ready line: " + ready->line;
    }
  }
  if (!problem.empty()) {
    stop_child();
    const std::string tail = stderr_tail();
    if (peer_ == SimOptions::Peer::perl_net_smpp &&
        tail.find("Net::SMPP not found") != std::string::npos)
      problem = name_ + ": the Perl module Net::SMPP is missing (install libnet-smpp-perl; "
                "scripts/bootstrap.sh does)";
    throw std::runtime_error(problem + "\n" + tail);
  }
}

SimProcess::~SimProcess() { stop_child(); }

void SimProcess::stop_child() {
  if (pid_ > 0) {
    write_line("quit");
    {
      std::lock_guard lock(write_mutex_);
      close_fd(stdin_fd_);  // EOF on stdin also makes the simulator exit
    }
    int status = 0;
    bool reaped = false;
    const auto until = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < until) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        reaped = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();
  std::lock_guard lock(write_mutex_);
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

void SimProcess::pump() {
  std::string out_buffer;
  std::string err_buffer;
  bool out_open = true;
  bool err_open = true;
  const auto drain = [](std::string& buffer, auto&& deliver) {
    std::size_t pos;
    while ((pos = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, pos);
      buffer.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      deliver(std::move(line));
    }
  };
  while (out_open || err_open) {
    pollfd fds[2] = {{out_open ? stdout_fd_ : -1, POLLIN, 0}, {err_open ? stderr_fd_ : -1, POLLIN, 0}};
    // The child exits or is killed before the join, so EOF always comes; the
    // timeout only bounds each wait.
    const int n = ::poll(fds, 2, 200);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char chunk[4096];
      const ssize_t got = ::read(fds[i].fd, chunk, sizeof chunk);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      auto& buffer = i == 0 ? out_buffer : err_buffer;
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        if (!buffer.empty()) buffer.push_back('\n');
      } else {
        buffer.append(chunk, static_cast<std::size_t>(got));
      }
      if (i == 0) {
        drain(buffer, [this](std::string line) { on_stdout_line(std::move(line)); });
      } else {
        drain(buffer, [this](std::string line) { on_stderr_line(std::move(line)); });
      }
    }
  }
  std::lock_guard lock(mutex_);
  eof_ = true;
  changed_.notify_all();
}

void SimProcess::on_stdout_line(std::string line) {
  if (line.empty()) return;
  Event event = parse(line);
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(event));
  returned_.push_back(false);
  changed_.notify_all();
}

void SimProcess::on_stderr_line(std::string line) {
  const std::string forwarded = "[" + name_ + "] " + line + "\n";
  std::fputs(forwarded.c_str(), stderr);
  std::lock_guard lock(mutex_);
  stderr_lines_.push_back(std::move(line));
  if (stderr_lines_.size() > stderr_keep) stderr_lines_.erase(stderr_lines_.begin());
}

bool SimProcess::write_line(const std::string& line) {
  std::lock_guard lock(write_mutex_);
  if (stdin_fd_ < 0) return false;
  // A dead child must not kill the test program with SIGPIPE: block it in this
  // thread for the write and swallow one raised by it.
  sigset_t pipe_set;
  sigset_t old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

  const std::string data = line + "\n";
  std::size_t done = 0;
  bool ok = true;
  while (done < data.size()) {
    const ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!ok && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return ok;
}

SimProcess::Event SimProcess::command(const std::string& line, std::chrono::milliseconds timeout) {
  return commands({line}, timeout).front();
}

std::vector<SimProcess::Event> SimProcess::commands(const std::vector<std::string>& lines,
                                                    std::chrono::milliseconds timeout) {
  std::vector<std::string> names;
  std::string batch;
  for (const auto& line : lines) {
    names.push_back(first_token(line));
    if (names.back().empty()) throw std::runtime_error(name_ + ": empty command");
    if (line.find('\n') != std::string::npos)
      throw std::runtime_error(name_ + ": a command is one line (encode values): " + line);
    batch += batch.empty() ? line : "\n" + line;
  }
  if (names.empty()) return {};
  std::lock_guard serial(command_mutex_);
  std::size_t start;
  {
    std::lock_guard lock(mutex_);
    start = events_.size();
  }
  // One write for the batch: the simulator reads the lines back to back.
  if (!write_line(batch))
    throw std::runtime_error(name_ + ": cannot send `" + lines.front() + "`: simulator gone\n" +
                             stderr_tail());

  std::vector<Event> answers;
  std::unique_lock lock(mutex_);
  const auto until = Clock::now() + timeout;
  for (;;) {
    for (std::size_t i = start; i < events_.size() && answers.size() < names.size(); ++i) {
      const Event& e = events_[i];
      if (e.name != "ok" && e.name != "error") continue;
      const auto cmd = e.fields.find("cmd");
      if (cmd == e.fields.end() || cmd->second != names[answers.size()]) continue;
      returned_[i] = true;
      if (e.name == "error") {
        const auto reason = e.fields.find("reason");
        throw std::runtime_error(name_ + ": `" + lines[answers.size()] + "` failed: " +
                                 (reason == e.fields.end() ? e.line : reason->second));
      }
      answers.push_back(e);
    }
    if (answers.size() == names.size()) return answers;
    start = events_.size();
    const std::string& waiting = lines[answers.size()];
    if (eof_) {
      lock.unlock();
      throw std::runtime_error(name_ + ": exited before answering `" + waiting + "`\n" +
                               stderr_tail());
    }
    if (Clock::now() >= until) {
      lock.unlock();
      throw std::runtime_error(name_ + ": no answer to `" + waiting + "` within " +
                               std::to_string(timeout.count()) + " ms");
    }
    changed_.wait_until(lock, until);
  }
}

std::optional<SimProcess::Event> SimProcess::wait_for(const std::string& name,
                                                      std::chrono::milliseconds timeout,
                                                      std::function<bool(const Event&)> pred) {
  std::unique_lock lock(mutex_);
  const auto until = Clock::now() + timeout;
  std::size_t from = 0;
  for (;;) {
    for (std::size_t i = from; i < events_.size(); ++i) {
      if (returned_[i] || events_[i].name != name) continue;
      if (pred && !pred(events_[i])) continue;
      returned_[i] = true;
      return events_[i];
    }
    // Events before `from` were seen and refused; only new ones can match.
    from = events_.size();
    if (eof_ || Clock::now() >= until) return std::nullopt;
    changed_.wait_until(lock, until);
  }
}

std::vector<SimProcess::Event> SimProcess::history() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::size_t SimProcess::count(const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& e : events_) n += e.name == name ? 1 : 0;
  return n;
}

bool SimProcess::running() const {
  std::lock_guard lock(mutex_);
  return !eof_;
}

std::string SimProcess::stderr_tail() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& l : stderr_lines_) out += "[" + name_ + " stderr] " + l + "\n";
  return out;
}

std::string SimProcess::encode(std::string_view value) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0F]);
    }
  }
  return out;
}

std::string SimProcess::decode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex_value(value[i + 1]) >= 0 &&
        hex_value(value[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(value[i + 1]) * 16 + hex_value(value[i + 2])));
      i += 2;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

SimProcess::Event SimProcess::parse(std::string_view line) {
  Event event;
  event.line = std::string(line);
  std::size_t pos = 0;
  bool first = true;
  while (pos < line.size()) {
    if (line[pos] == ' ') {
      ++pos;
      continue;
    }
    auto end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view token = line.substr(pos, end - pos);
    pos = end;
    if (first) {
      event.name = std::string(token);
      first = false;
      continue;
    }
    const auto eq = token.find('=');
    if (eq == std::string_view::npos) {
      event.fields[std::string(token)] = "";
    } else {
      event.fields[std::string(token.substr(0, eq))] = decode(token.substr(eq + 1));
    }
  }
  return event;
}

}  // namespace giftgate::test
