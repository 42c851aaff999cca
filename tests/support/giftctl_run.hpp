// The built giftctl run as an operator runs it, for the process tests: its
// exit status and what it wrote to standard output and standard error.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace giftgate::test {

struct CtlRun {
  int status = -1;  // the exit status; -1 when it did not exit
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// giftctl ARGS with GIFTGATE_CONFIG=config; its output is kept in dir's
// files "out" and "err" (replaced at each run).
inline CtlRun run_giftctl(const TempDir& dir, const std::string& config, const std::string& args) {
  const std::string cmd = "GIFTGATE_CONFIG=" + config + " " + GIFTGATE_GIFTCTL + " " + args +
                          " >" + dir.file("out") + " 2>" + dir.file("err");
  const int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir.file("out")), slurp(dir.file("err"))};
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Whether some line of `text` holds every one of `parts`.
inline bool line_with(const std::string& text, std::initializer_list<std::string> parts) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (std::all_of(parts.begin(), parts.end(), [&](const auto& p) { return contains(line, p); }))
      return true;
  return false;
}

}  // namespace giftgate::test
