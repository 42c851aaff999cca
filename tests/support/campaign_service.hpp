// The configuration and messages a Service under test runs on: the
// campaign from 2026-10-01 to 2027-01-01 and the shipped templates.
#pragma once

#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "daemon/campaign/templates.hpp"
#include "daemon/config/config.hpp"

namespace giftgate::test {

inline Config campaign_config() {
  std::string error;
  auto c = parse_config("campaign:\n  start: 2026-10-01\n  end: 2027-01-01\n", "t.yaml", &error);
  REQUIRE_MESSAGE(c, error);
  return *c;
}

inline std::shared_ptr<const Templates> shipped_templates() {
  std::string error;
  auto t = Templates::load(std::string(GIFTGATE_SOURCE_DIR) + "/templates/messages.yaml", 3,
                           &error);
  REQUIRE_MESSAGE(t, error);
  return t;
}

}  // namespace giftgate::test
