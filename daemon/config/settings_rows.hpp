// The table of settings by section, in the order of conf/giftgate.yaml:
// make_table (settings_table.cpp) calls each in turn. Internal to
// daemon/config.
#pragma once

#include <vector>

#include "daemon/config/settings_table.hpp"

namespace giftgate {

// smsc.* (settings_smsc.cpp)
void add_smsc_settings(std::vector<Setting>& t);
// routing, outbox, daemon, logging, metrics, api, storage, templates (settings_daemon.cpp)
void add_daemon_settings(std::vector<Setting>& t);
// campaign, verification, limits, accrual (settings_campaign.cpp)
void add_campaign_settings(std::vector<Setting>& t);
// ussd, retention, pushes, reminders, web (settings_channels.cpp)
void add_channel_settings(std::vector<Setting>& t);

}  // namespace giftgate
