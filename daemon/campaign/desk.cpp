// Stub: filled in by the change that implements desk.hpp.
#include "daemon/campaign/desk.hpp"
