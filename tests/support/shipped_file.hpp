// The shipped files (templates/messages.yaml, templates/menus.yaml) as tests
// read and vary them.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace giftgate::test {

// A file of the source tree, by its path from the top (GIFTGATE_SOURCE_DIR).
inline std::string shipped_file(const std::string& relative) {
  std::ifstream in(std::string(GIFTGATE_SOURCE_DIR) + "/" + relative);
  if (!in) throw std::runtime_error("cannot read " + relative);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `text` (a YAML file of top-level entries separated by blank lines) with
// the entry `name` replaced by `entry`.
inline std::string with_entry(const std::string& text, const std::string& name,
                              const std::string& entry) {
  const auto at = text.find("\n" + name + ":");
  if (at == std::string::npos) throw std::runtime_error("no entry " + name);
  const auto end = text.find("\n\n", at + 1);  // npos: the last entry
  return text.substr(0, at + 1) + entry + (end == std::string::npos ? "\n" : text.substr(end));
}

}  // namespace giftgate::test
