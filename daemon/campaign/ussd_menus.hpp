// The USSD screens, from templates/menus.yaml: one entry per screen, in zh
// and en, with named placeholders like the SMS templates. A screen must fit
// the USSD string limit (182 GSM characters, or fewer UCS-2 characters) when
// filled with the longest plausible values; a list screen (tiers, vouchers,
// merchants) must fit one longest line plus the "more" line, and pages at
// run time hold as many lines as fit.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/templates.hpp"

namespace giftgate {

// The USSD string limits, from config.
struct UssdLimits {
  std::size_t gsm_chars = 182;  // GSM 03.38 septets (extension characters count two)
  std::size_t ucs2_chars = 80;  // UTF-16 units when the text needs UCS-2
};

// The limits the configuration's ussd section sets.
UssdLimits ussd_limits(const UssdSettings& settings);

// Whether a screen's text fits; empty if so, else why not.
std::string ussd_too_long(const std::string& text, const UssdLimits& limits);

// The catalogue of USSD screens, checked against `limits`.
TemplateCatalogue ussd_catalogue(const UssdLimits& limits);

// A loaded menus file with its limits.
struct UssdMenus {
  std::shared_ptr<const Templates> screens;
  UssdLimits limits;

  static std::shared_ptr<const UssdMenus> load(const std::string& path, const UssdLimits& limits,
                                               std::string* error);
  static std::shared_ptr<const UssdMenus> parse(std::string_view text, const std::string& source,
                                                const UssdLimits& limits, std::string* error);
  // The menus the configuration names (ussd.menus), with its limits.
  static std::shared_ptr<const UssdMenus> load(const UssdSettings& settings, std::string* error);

  // One page of a list screen: `screen` filled with `values` and as many
  // of `lines` from `first` on as fit, plus the "more" line when some are
  // left. Sets `next` to the first line not shown (lines.size() when all
  // were). At least one line is always shown.
  std::string page(const std::string& screen, const std::string& language, TemplateValues values,
                   const std::string& list_placeholder, const std::vector<std::string>& lines,
                   std::size_t first, std::size_t* next) const;
};

}  // namespace giftgate
