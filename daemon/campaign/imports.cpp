#include "daemon/campaign/imports.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/csv.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/table.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "protocol/charset.hpp"

namespace giftgate {
namespace {

using smpp::ascii_lower;

std::optional<std::int64_t> whole_number(std::string_view s) {
  std::int64_t v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A merchant's id (and its city's) is typed on giftctl's command line and
// shown in reports.
constexpr std::size_t kMerchantIdMax = 32;

// What members read of a merchant must fit every message that shows it:
// the lengths are those the messages were checked with.
constexpr std::string_view kShownToMembers =
    ", so that every SMS that shows it fits (a Chinese character counts one; €, brackets and "
    "emoji two)";

// Why a merchant's text field may not be stored as it is, or "". Control
// characters would break the lines of a list or drive a terminal, bidi
// controls reorder what a member reads.
std::string merchant_text_misfit(std::string_view what, std::string_view text, std::size_t most,
                                 std::string_view because = {}) {
  if (has_unprintable(text))
    return fmt::format("the {} holds a control character, a bidirectional control or bytes that "
                       "are not UTF-8",
                       what);
  const std::size_t length = value_length(text).value_or(0);
  if (length > most)
    return fmt::format("the {} is {} characters long, more than the {} allowed{}", what, length,
                       most, because);
  return {};
}

// The marker run_import turns into a database failure with SQLite's message.
const std::string kDbFailed = "\x01" "database";

// One row: its fields by column name.
class Row {
 public:
  Row(const CsvHeader& header, const CsvRecord& record) : header_(header), record_(record) {}
  std::string_view operator[](std::string_view column) const {
    const int i = header_.index(column);
    return i < 0 ? std::string_view() : std::string_view(record_.fields[i]);
  }
  const CsvRecord& record() const { return record_; }

 private:
  const CsvHeader& header_;
  const CsvRecord& record_;
};

// Reads the file row by row inside one transaction; `apply` returns an error
// message for a bad row (nothing of the file is kept) or empty.
template <typename Apply>
ImportResult run_import(db::Database& db, std::string_view text, const std::string& name,
                        const std::vector<std::string_view>& required,
                        const std::vector<std::string_view>& optional,
                        std::string_view optional_prefix, const ImportProgress& progress,
                        Apply apply) {
  ImportResult result;
  auto bad = [&](std::size_t line, const std::string& message) {
    result.status = ImportResult::Status::bad_input;
    result.error = fmt::format("{}:{}: {}", name, line, message);
    return result;
  };
  CsvReader reader(text);
  const auto first = reader.next();
  if (!first) {
    if (!reader.error().empty()) return bad(reader.error_line(), reader.error());
    return bad(1, "the file is empty; it needs a header line");
  }
  CsvHeader header;
  if (!header.parse(*first, required, optional, optional_prefix))
    return bad(header.error_line(), header.error());

  db::Transaction tx(db);
  if (!tx.begun()) {
    result.error = fmt::format("{}: the database is not available: {}", name, tx.begun().message);
    return result;
  }
  while (auto record = reader.next()) {
    if (record->fields.size() != header.names().size())
      return bad(record->line, fmt::format("{} fields, but the header has {}",
                                           record->fields.size(), header.names().size()));
    ++result.rows;
    std::string error = apply(Row(header, *record), result);
    if (error == kDbFailed) {
      result.status = ImportResult::Status::failed;
      result.error = fmt::format("{}:{}: the database refused: {}", name, record->line,
                                 db.last_status(1).message);
      return result;
    }
    if (!error.empty()) return bad(record->line, error);
    if (progress && result.rows % 2000 == 0) progress(reader.offset(), text.size());
  }
  if (!reader.error().empty()) return bad(reader.error_line(), reader.error());
  if (const auto c = tx.commit(); !c.ok()) {
    result.status = ImportResult::Status::failed;
    result.error = fmt::format("{}: the database refused the commit: {}", name, c.message);
    return result;
  }
  if (progress) progress(text.size(), text.size());
  result.status = ImportResult::Status::ok;
  return result;
}

}  // namespace

ImportResult Importer::members(std::string_view text, const std::string& name) {
  auto find = db_.prepare("SELECT id FROM members WHERE msisdn = ?");
  auto insert = db_.prepare(
      "INSERT INTO members(msisdn, city, language, care_opt_out) VALUES (?, ?, ?, ?)");
  EventWriter events(db_, actor_);
  EntryWriter ledger(db_, actor_);
  std::set<std::string> seen;
  return run_import(
      db_, text, name, {"msisdn", "city"}, {"language", "opt_out", "points"}, {}, progress_,
      [&](const Row& row, ImportResult& result) -> std::string {
        const auto msisdn = normalize_msisdn(row["msisdn"], config_.default_country);
        if (!msisdn) return fmt::format("'{}' is not a phone number", row["msisdn"]);
        if (!seen.insert(*msisdn).second)
          return fmt::format("member {} is listed twice in this file", *msisdn);
        const std::string city = ascii_lower(row["city"]);
        if (city.empty()) return "the city is empty";
        const std::string language = row["language"].empty() ? "zh" : ascii_lower(row["language"]);
        if (language != "zh" && language != "en")
          return fmt::format("language must be zh or en, not '{}'", row["language"]);
        const std::string opt = ascii_lower(row["opt_out"]);
        if (opt != "" && opt != "0" && opt != "1" && opt != "yes" && opt != "no")
          return fmt::format("opt_out must be 1/0 or yes/no, not '{}'", row["opt_out"]);
        const auto points = row["points"].empty() ? std::optional<std::int64_t>(0)
                                                  : whole_number(row["points"]);
        if (!points || *points < 0)
          return fmt::format("points must be a whole number of 0 or more, not '{}'",
                             row["points"]);
        if (auto why = points_out_of_bounds(*msisdn, 0, *points, config_.campaign.points))
          return *why;

        find.reset();
        switch (find.bind(1, *msisdn).step()) {
          case db::StepResult::row: ++result.skipped; return {};
          case db::StepResult::done: break;
          case db::StepResult::error: return kDbFailed;
        }
        insert.reset();
        if (!insert.bind(1, *msisdn)
                 .bind(2, city)
                 .bind(3, language)
                 .bind(4, std::int64_t{opt == "1" || opt == "yes"})
                 .run()
                 .ok())
          return kDbFailed;
        const std::int64_t id = db_.last_insert_id();
        if (!events.add("member_added", id, city).ok()) return kDbFailed;
        if (*points > 0) {
          if (!ledger.add(id, *points, "opening balance", "opening:" + *msisdn).ok() ||
              !events.add("points", id, fmt::format("{:+} opening balance", *points)).ok())
            return kDbFailed;
          if (__builtin_add_overflow(result.points, *points, &result.points))
            return "the file's points add up to more than 64 bits hold";
        }
        ++result.applied;
        return {};
      });
}

ImportResult Importer::merchants(std::string_view text, const std::string& name) {
  auto upsert = db_.prepare(
      "INSERT INTO merchants(id, name, city, kind, level) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET name = excluded.name, city = excluded.city, "
      "kind = excluded.kind, level = excluded.level");
  auto drop_phones = db_.prepare("DELETE FROM merchant_phones WHERE merchant_id = ?");
  auto drop_offers = db_.prepare("DELETE FROM merchant_offers WHERE merchant_id = ?");
  auto owner = db_.prepare("SELECT merchant_id FROM merchant_phones WHERE msisdn = ?");
  auto add_phone = db_.prepare("INSERT INTO merchant_phones(msisdn, merchant_id) VALUES (?, ?)");
  auto add_offer =
      db_.prepare("INSERT INTO merchant_offers(merchant_id, tier, offer) VALUES (?, ?, ?)");
  EventWriter events(db_, actor_);
  std::set<std::string> seen;
  return run_import(
      db_, text, name, {"id", "name", "city", "kind", "level", "phones"}, {}, "offer_",
      progress_, [&](const Row& row, ImportResult& result) -> std::string {
        const std::string id(row["id"]);
        if (id.empty()) return "the merchant id is empty";
        if (auto why = merchant_text_misfit("merchant id", id, kMerchantIdMax); !why.empty())
          return why;
        if (!seen.insert(id).second) return fmt::format("merchant {} is listed twice", id);
        const std::string kind = ascii_lower(row["kind"]), level = ascii_lower(row["level"]);
        const std::string city = ascii_lower(row["city"]);
        if (row["name"].empty() || city.empty()) return "name and city must not be empty";
        auto why = merchant_text_misfit("name", row["name"], kMerchantNameMax, kShownToMembers);
        if (why.empty()) why = merchant_text_misfit("city", city, kMerchantIdMax);
        if (!why.empty()) return fmt::format("merchant {}: {}", id, why);
        if (kind != "ktv" && kind != "cinema")
          return fmt::format("kind must be ktv or cinema, not '{}'", row["kind"]);
        if (level != "high" && level != "middle" && level != "low")
          return fmt::format("level must be high, middle or low, not '{}'", row["level"]);
        std::vector<std::string> phones;
        std::string_view rest = row["phones"];
        while (!rest.empty()) {
          const auto cut = rest.find_first_of("; ");
          const auto part = trim(rest.substr(0, cut));
          rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
          if (part.empty()) continue;
          const auto n = normalize_msisdn(part, config_.default_country);
          if (!n) return fmt::format("'{}' is not a phone number", part);
          phones.push_back(*n);
        }
        if (phones.empty()) return "a merchant needs at least one phone number to verify from";

        upsert.reset();
        drop_phones.reset();
        drop_offers.reset();
        if (!upsert.bind(1, id).bind(2, row["name"]).bind(3, city).bind(4, kind).bind(5, level)
                 .run().ok() ||
            !drop_phones.bind(1, id).run().ok() || !drop_offers.bind(1, id).run().ok())
          return kDbFailed;
        for (const auto& phone : phones) {
          owner.reset();
          switch (owner.bind(1, phone).step()) {
            case db::StepResult::row:
              return fmt::format("number {} already belongs to merchant {}", phone,
                                 owner.column_text(0));
            case db::StepResult::done: break;
            case db::StepResult::error: return kDbFailed;
          }
          add_phone.reset();
          if (!add_phone.bind(1, phone).bind(2, id).run().ok()) return kDbFailed;
        }
        std::vector<std::pair<std::string, std::string>> offers;
        for (const auto& tier : config_.campaign.tiers) {
          const auto offer = row["offer_" + ascii_lower(tier.name)];
          if (!offer.empty()) offers.emplace_back(tier.name, offer);
        }
        // As members read them: "A: 5 hours; B: 2 hours".
        why = merchant_text_misfit("offers line", offers_line(offers), kMerchantOffersMax,
                                   kShownToMembers);
        if (!why.empty()) return fmt::format("merchant {}: {}", id, why);
        for (const auto& [tier, offer] : offers) {
          add_offer.reset();
          if (!add_offer.bind(1, id).bind(2, tier).bind(3, offer).run().ok()) return kDbFailed;
        }
        if (!events.add("merchant_loaded", std::nullopt, id).ok()) return kDbFailed;
        ++result.applied;
        return {};
      });
}

ImportResult Importer::activity(std::string_view text, const std::string& name) {
  auto find = db_.prepare("SELECT id FROM members WHERE msisdn = ?");
  EventWriter events(db_, actor_);
  EntryWriter ledger(db_, actor_);
  Ledger sums(db_);
  std::map<std::string, std::size_t> seen;  // key -> line
  // Each member's balance as this file leaves it so far: summed once, then
  // kept up to date here instead of summing the ledger for every row.
  std::unordered_map<std::int64_t, std::int64_t> balances;
  const PointLimits& limits = config_.campaign.points;
  return run_import(
      db_, text, name, {"msisdn", "activity", "quantity", "period"}, {"id"}, {}, progress_,
      [&](const Row& row, ImportResult& result) -> std::string {
        const auto msisdn = normalize_msisdn(row["msisdn"], config_.default_country);
        if (!msisdn) return fmt::format("'{}' is not a phone number", row["msisdn"]);
        const std::string activity = ascii_lower(row["activity"]);
        const auto rate = config_.accrual.rate(activity);
        if (!rate)
          return fmt::format("unknown activity '{}' (network_month, rbt_fee_yuan, service_use)",
                             row["activity"]);
        const auto quantity = whole_number(row["quantity"]);
        if (!quantity || *quantity <= 0 || *quantity > 1'000'000)
          return fmt::format("quantity must be a whole number from 1 to 1000000, not '{}'",
                             row["quantity"]);
        // One month, one spelling: the key below is made of it, so "2026-10"
        // and "Oct 2026" must not be two months that each earn once.
        const auto period = parse_month(row["period"]);
        if (!period)
          return fmt::format("period must be a month like 2026-10, not '{}'", row["period"]);
        const auto& first = config_.accrual.first_period;
        const auto& last = config_.accrual.last_period;
        if (*period < first || *period > last)
          return fmt::format("period {} is outside the months credited, {} to {} "
                             "(accrual.first_period, accrual.last_period)",
                             *period, first, last);
        const std::string key = row["id"].empty()
                                    ? fmt::format("{}|{}|{}", *msisdn, activity, *period)
                                    : std::string(row["id"]);
        if (const auto [it, fresh] = seen.emplace(key, row.record().line); !fresh)
          return fmt::format("the same activity as line {}", it->second);
        find.reset();
        switch (find.bind(1, *msisdn).step()) {
          case db::StepResult::row: break;
          case db::StepResult::done: return fmt::format("{} is not a member", *msisdn);
          case db::StepResult::error: return kDbFailed;
        }
        const std::int64_t member = find.column_int(0);
        std::int64_t points = 0;
        if (__builtin_mul_overflow(*rate, *quantity, &points))
          return fmt::format("{} x{} is more points than 64 bits hold", activity, *quantity);
        if (points > limits.max_change)
          return fmt::format("{} x{} is {} points, more than campaign.max_points_change ({})",
                             activity, *quantity, points, limits.max_change);
        if (points == 0) {
          ++result.skipped;
          return {};
        }
        auto balance = balances.find(member);
        if (balance == balances.end()) {
          const auto sum = sums.balance(member);
          if (!sum) return sums.last_error();
          balance = balances.emplace(member, *sum).first;
        }
        const auto reason = fmt::format("{} x{} ({})", activity, *quantity, *period);
        const auto s = ledger.add(member, points, reason, "activity:" + key);
        if (s.constraint()) {
          ++result.skipped;  // applied by an earlier import
          return {};
        }
        if (!s.ok()) return kDbFailed;
        // Checked after the entry went in, so that a row an earlier import
        // applied is skipped whatever the balance; a refusal here drops the
        // whole file, this entry with it.
        if (auto why = points_out_of_bounds(*msisdn, balance->second, points, limits))
          return *why;
        balance->second += points;  // within max_balance: no overflow
        if (!events.add("points", member, fmt::format("{:+} {}", points, reason)).ok())
          return kDbFailed;
        if (__builtin_add_overflow(result.points, points, &result.points))
          return "the file's points add up to more than 64 bits hold";
        ++result.applied;
        return {};
      });
}

}  // namespace giftgate
