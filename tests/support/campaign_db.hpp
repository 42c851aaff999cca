// A campaign database with the full schema, for tests.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "daemon/storage/schema.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate::test {

inline std::unique_ptr<db::Database> open_campaign_db(
    const std::string& path, std::chrono::milliseconds busy = std::chrono::milliseconds(5000)) {
  std::string error;
  auto db = db::Database::open({path, busy}, schema_migrations(), &error);
  if (!db) throw std::runtime_error("cannot open " + path + ": " + error);
  return db;
}

}  // namespace giftgate::test
