// Stub: filled in by the change that writes these pages.
#include "daemon/console/console.hpp"

namespace giftgate::console {

std::vector<Route> desk_routes() { return {}; }

}  // namespace giftgate::console
