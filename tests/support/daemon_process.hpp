// Runs the built giftgated as a child process for end-to-end tests: its
// stderr goes to a file the test can read; every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace giftgate::test {

class DaemonProcess {
 public:
  // Starts `program` with `args`; stderr and stdout go to `log_path`.
  DaemonProcess(const std::string& program, const std::vector<std::string>& args,
                const std::string& log_path);
  // SIGKILLs it if still running, and reaps it.
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  void signal(int signo) const;
  // Waits up to `timeout` for the exit; its status (exit code, or 128 +
  // signal), or nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // The log so far.
  std::string log() const;
  // Waits until the log contains `needle` (true) or the timeout (false).
  bool wait_log(const std::string& needle, std::chrono::milliseconds timeout) const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

}  // namespace giftgate::test
