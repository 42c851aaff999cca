#include "daemon/gateway/group_commit.hpp"

#include <sqlite3.h>

namespace giftgate {

db::Status SqliteBatchStore::begin() {
  tx_.emplace(db_);
  db::Status begun = tx_->begun();
  // Busy past the timeout: no batch this time.
  if (!begun.ok()) tx_.reset();
  return begun;
}

db::Status SqliteBatchStore::commit() {
  if (!tx_) return {1, "no batch is open"};
  db::Status committed = tx_->commit();
  tx_.reset();
  return committed;
}

bool SqliteBatchStore::still_open() const {
  return tx_ && !sqlite3_get_autocommit(db_.handle());
}

std::int64_t SqliteBatchStore::changes() const { return sqlite3_total_changes(db_.handle()); }

}  // namespace giftgate
