// Members' and merchants' phone numbers. Numbers arrive typed by people (web
// forms, admin imports, SMS bodies) and from SMSCs in several shapes; every
// lookup, stored record and voucher is keyed by one form: E.164 digits
// without the '+' ("8613800138000").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace giftgate {

// Puts a phone number into E.164 digits without '+', or nullopt when it is
// not one. Accepted: "+8613800138000", "008613800138000", "8613800138000",
// national "13800138000" (prefixed with default_country), with spaces,
// dashes, dots and parentheses anywhere, and full-width digits, '+' and
// punctuation as Chinese input methods produce them. Rejected: letters and
// other symbols, fewer than 7 or more than 15 digits, a country code starting
// with 0. For country 86 the plan is known: a national number must be
// an 11-digit mobile starting with 1, and a mobile after 86 must have 11
// digits. For other countries the rule is a best effort: a number already
// starting with the country code is kept, a single leading 0 is taken as the
// trunk prefix.
std::optional<std::string> normalize_msisdn(std::string_view input,
                                            std::string_view default_country = "86");

// A phone number fit for logs: the start (country code and operator prefix)
// and the last few digits, the middle starred ("8613800138000" becomes
// "86138****8000"). Never shows every digit; numbers under 7 digits and
// anything that is not a phone number are fully starred, at most 16 stars.
std::string mask_msisdn(std::string_view input);

}  // namespace giftgate
