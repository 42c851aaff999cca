#include "daemon/campaign/settings.hpp"

namespace giftgate {

std::optional<std::int64_t> Accrual::rate(std::string_view activity) const {
  if (activity == "network_month") return network_month;
  if (activity == "rbt_fee_yuan") return rbt_fee_yuan;
  if (activity == "service_use") return service_use;
  return std::nullopt;
}

}  // namespace giftgate
