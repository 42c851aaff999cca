// Stub: filled in by the change that implements dashboard.hpp.
#include "daemon/campaign/dashboard.hpp"
