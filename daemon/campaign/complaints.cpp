// Stub: filled in by the change that implements complaints.hpp.
#include "daemon/campaign/complaints.hpp"
