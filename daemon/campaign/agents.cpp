// Stub: filled in by the change that implements agents.hpp.
#include "daemon/campaign/agents.hpp"
