// Writing HTML safely: every value from outside goes through escape(), and
// the helpers here are the only places that build markup around values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/table.hpp"
#include "daemon/console/console.hpp"

namespace giftgate::console {

// `text` as HTML text or an attribute's value: & < > " ' escaped, bytes
// that are not UTF-8 and control characters (but \n and \t) shown as U+FFFD.
std::string escape(std::string_view text);

// <table> of `table`, id `id`, every header and cell escaped; numeric
// columns right-aligned; `empty` shown instead when it has no rows.
// With `linked` (a column's index), that column's cells are links to
// `prefix` + the cell, %-encoded (a voucher's page from its code).
std::string table_html(const Table& table, std::string_view id, std::string_view empty,
                       std::optional<std::size_t> linked = std::nullopt,
                       std::string_view prefix = {});

// The hidden field carrying the session's CSRF token: every POST form has it.
std::string csrf_field(const Page& page);

// A POST form to `action` (escaped) with the CSRF token, `inner` (HTML:
// its fields) and a submit button labelled `button`, id `id`.
std::string post_form(const Page& page, std::string_view action, std::string_view id,
                      const std::string& inner, std::string_view button);

// A required text field for the action's reason, labelled in the agent's language.
std::string reason_field(const Page& page);

// <a href> to `href` (escaped) with text `text` (escaped).
std::string link(std::string_view href, std::string_view text);

// A path segment, %-encoded (for links to /console/members/{msisdn} ...).
std::string path_segment(std::string_view value);

}  // namespace giftgate::console
