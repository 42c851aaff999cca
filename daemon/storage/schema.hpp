// The campaign database's schema, as numbered migrations applied in order at
// start-up. A migration, once shipped, is never edited: changes are new ones.
#pragma once

#include <span>

#include "daemon/storage/sqlite.hpp"

namespace giftgate {

std::span<const db::Migration> schema_migrations();

}  // namespace giftgate
