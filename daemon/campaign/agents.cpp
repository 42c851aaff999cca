// Stub: filled in by the change that implements agents.hpp. Until then only
// the roles' names and may(), which the desk pages and their tests need;
// that change's agents.cpp replaces this file whole.
#include "daemon/campaign/agents.hpp"

namespace giftgate {

std::string_view to_string(AgentRole role) {
  return role == AgentRole::supervisor ? "supervisor" : "agent";
}

std::optional<AgentRole> parse_agent_role(std::string_view text) {
  if (text == "agent") return AgentRole::agent;
  if (text == "supervisor") return AgentRole::supervisor;
  return std::nullopt;
}

bool may(AgentRole role, DeskAction action) {
  switch (action) {
    case DeskAction::reinstate:
    case DeskAction::correct_points: return role == AgentRole::supervisor;
    case DeskAction::look:
    case DeskAction::resend:
    case DeskAction::void_voucher:
    case DeskAction::redeem:
    case DeskAction::complaint: return true;
  }
  return false;
}

}  // namespace giftgate
