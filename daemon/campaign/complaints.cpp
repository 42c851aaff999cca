#include "daemon/campaign/complaints.hpp"

#include <algorithm>
#include <cstdio>

#include "protocol/charset.hpp"

namespace giftgate {

const std::vector<std::string_view>& complaint_categories() {
  static const std::vector<std::string_view> kCategories = {
      "not_received", "not_accepted", "wrong_points", "expired", "merchant", "other"};
  return kCategories;
}

const std::vector<std::string_view>& complaint_outcomes() {
  static const std::vector<std::string_view> kOutcomes = {"resolved", "compensated", "rejected",
                                                          "duplicate"};
  return kOutcomes;
}

namespace {

using R = Complaints::Result;

bool one_of(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// 1 to 2,000 characters (code points), and valid UTF-8: the decoder of the
// SMS path says which, so a text a form accepts is one an SMS could carry.
bool valid_text(std::string_view text) {
  if (text.empty() || !smpp::utf16_length(text)) return false;
  std::size_t chars = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++chars;
  return chars <= 2000;
}

// The columns every list shares; `where` and `order` choose the rows.
std::optional<Table> complaint_table(db::Database& db, const std::string& where,
                                     const std::string& order,
                                     const std::optional<std::string>& key, std::int64_t member,
                                     Time now, std::string* error) {
  Table table;
  table.add_column("id", true);
  table.add_column("opened_at");
  table.add_column("age_hours", true);
  table.add_column("msisdn");
  table.add_column("voucher");
  table.add_column("category");
  table.add_column("state");
  table.add_column("opened_by");
  table.add_column("outcome");
  table.add_column("notes", true);
  db::Status status;
  auto query = db.try_prepare(
      "SELECT c.id, c.opened_at,"
      " CAST((julianday(?1) - julianday(c.opened_at)) * 24 AS INTEGER),"
      " m.msisdn, coalesce(c.voucher_code, ''), c.category, c.state, c.opened_by,"
      " coalesce(c.outcome, ''),"
      " (SELECT count(*) FROM complaint_notes n WHERE n.complaint_id = c.id)"
      " FROM complaints c JOIN members m ON m.id = c.member_id WHERE " +
          where + " ORDER BY " + order,
      &status);
  if (!query) {
    if (error) *error = status.message;
    return std::nullopt;
  }
  query->bind(1, iso_time(now));
  if (key) query->bind(2, *key);
  else query->bind(2, member);
  status = query->each_row([&] {
    std::vector<std::string> row;
    for (int i = 0; i < 10; ++i) {
      if (i == 0 || i == 2 || i == 9) row.push_back(std::to_string(query->column_int(i)));
      else row.push_back(query->column_text(i));
    }
    table.rows.push_back(std::move(row));
  });
  if (!status.ok()) {
    if (error) *error = status.message;
    return std::nullopt;
  }
  return table;
}

}  // namespace

Complaints::Result Complaints::open(std::string_view msisdn,
                                    const std::optional<std::string>& voucher_code,
                                    std::string_view category, std::string_view text,
                                    const Actor& actor, Time now, std::int64_t* id) {
  if (!one_of(complaint_categories(), category) || !valid_text(text)) return R::invalid;
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return R::failed;
  db::Status status;
  auto member = db_.try_prepare("SELECT id FROM members WHERE msisdn = ?1", &status);
  if (!member) return R::failed;
  member->bind(1, msisdn);
  std::int64_t member_id = 0;
  switch (member->step()) {
    case db::StepResult::row: member_id = member->column_int(0); break;
    case db::StepResult::done: return R::unknown_member;
    case db::StepResult::error: return R::failed;
  }
  if (voucher_code) {
    auto voucher = db_.try_prepare("SELECT member_id FROM vouchers WHERE code = ?1", &status);
    if (!voucher) return R::failed;
    voucher->bind(1, *voucher_code);
    switch (voucher->step()) {
      case db::StepResult::row:
        // Another member's voucher is refused as unknown: the desk must not
        // learn from a complaint whose code it is.
        if (voucher->column_int(0) != member_id) return R::unknown_voucher;
        break;
      case db::StepResult::done: return R::unknown_voucher;
      case db::StepResult::error: return R::failed;
    }
  }
  auto insert = db_.try_prepare(
      "INSERT INTO complaints (member_id, voucher_code, category, text, opened_by, opened_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      &status);
  if (!insert) return R::failed;
  insert->bind(1, member_id).bind(2, voucher_code).bind(3, category).bind(4, text);
  insert->bind(5, actor.who).bind(6, iso_time(now));
  status = insert->run();
  if (!status.ok()) return R::failed;
  const std::int64_t new_id = db_.last_insert_id();
  // The event names the complaint and its category, not the member's words:
  // the history is read more widely than the complaint itself.
  status = record_event(db_, "complaint_opened", member_id, actor,
                        "complaint=" + std::to_string(new_id) + " category=" + std::string(category),
                        voucher_code);
  if (status.ok()) status = tx.commit();
  if (!status.ok()) return R::failed;
  if (id) *id = new_id;
  return R::ok;
}

namespace {

// The complaint's member, voucher and state, for a change to it.
struct Target {
  std::int64_t member_id = 0;
  std::optional<std::string> voucher;
  std::string state;
};

R find_target(db::Database& db, std::int64_t id, Target* target) {
  db::Status status;
  auto query = db.try_prepare(
      "SELECT member_id, voucher_code, state FROM complaints WHERE id = ?1", &status);
  if (!query) return R::failed;
  query->bind(1, id);
  switch (query->step()) {
    case db::StepResult::row:
      target->member_id = query->column_int(0);
      if (!query->column_null(1)) target->voucher = query->column_text(1);
      target->state = query->column_text(2);
      return R::ok;
    case db::StepResult::done: return R::unknown;
    case db::StepResult::error: return R::failed;
  }
  return R::failed;
}

db::Status insert_note(db::Database& db, std::int64_t id, std::string_view text,
                       const Actor& actor, Time now) {
  db::Status status;
  auto insert = db.try_prepare(
      "INSERT INTO complaint_notes (complaint_id, at, by, text) VALUES (?1, ?2, ?3, ?4)", &status);
  if (!insert) return status;
  insert->bind(1, id).bind(2, iso_time(now)).bind(3, actor.who).bind(4, text);
  return insert->run();
}

}  // namespace

Complaints::Result Complaints::add_note(std::int64_t id, std::string_view text, const Actor& actor,
                                        Time now) {
  if (!valid_text(text)) return R::invalid;
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return R::failed;
  Target target;
  if (R r = find_target(db_, id, &target); r != R::ok) return r;
  if (target.state != "open") return R::wrong_state;
  db::Status status = insert_note(db_, id, text, actor, now);
  if (status.ok())
    status = record_event(db_, "complaint_note", target.member_id, actor,
                          "complaint=" + std::to_string(id), target.voucher);
  if (status.ok()) status = tx.commit();
  return status.ok() ? R::ok : R::failed;
}

Complaints::Result Complaints::close(std::int64_t id, std::string_view outcome,
                                     std::string_view text, const Actor& actor, Time now) {
  if (!one_of(complaint_outcomes(), outcome)) return R::invalid;
  // The closing words are optional; when given they are a note like any other.
  if (!text.empty() && !valid_text(text)) return R::invalid;
  db::Transaction tx(db_);
  if (!tx.begun().ok()) return R::failed;
  Target target;
  if (R r = find_target(db_, id, &target); r != R::ok) return r;
  if (target.state != "open") return R::wrong_state;
  db::Status status;
  auto update = db_.try_prepare(
      "UPDATE complaints SET state = 'closed', closed_by = ?2, closed_at = ?3, outcome = ?4"
      " WHERE id = ?1 AND state = 'open'",
      &status);
  if (!update) return R::failed;
  update->bind(1, id).bind(2, actor.who).bind(3, iso_time(now)).bind(4, outcome);
  status = update->run();
  if (status.ok() && !text.empty()) status = insert_note(db_, id, text, actor, now);
  if (status.ok())
    status = record_event(db_, "complaint_closed", target.member_id, actor,
                          "complaint=" + std::to_string(id) + " outcome=" + std::string(outcome),
                          target.voucher);
  if (status.ok()) status = tx.commit();
  return status.ok() ? R::ok : R::failed;
}

std::optional<Complaint> Complaints::get(std::int64_t id, db::Status* status) {
  db::Status local;
  db::Status& s = status ? *status : local;
  auto query = db_.try_prepare(
      "SELECT c.id, c.member_id, m.msisdn, c.voucher_code, c.category, c.text, c.state,"
      " c.opened_by, c.opened_at, c.closed_by, c.closed_at, c.outcome"
      " FROM complaints c JOIN members m ON m.id = c.member_id WHERE c.id = ?1",
      &s);
  if (!query) return std::nullopt;
  query->bind(1, id);
  auto optional_text = [&](int i) -> std::optional<std::string> {
    if (query->column_null(i)) return std::nullopt;
    return query->column_text(i);
  };
  switch (query->step()) {
    case db::StepResult::row: {
      Complaint c;
      c.id = query->column_int(0);
      c.member_id = query->column_int(1);
      c.msisdn = query->column_text(2);
      c.voucher_code = optional_text(3);
      c.category = query->column_text(4);
      c.text = query->column_text(5);
      c.state = query->column_text(6);
      c.opened_by = query->column_text(7);
      c.opened_at = query->column_text(8);
      c.closed_by = optional_text(9);
      c.closed_at = optional_text(10);
      c.outcome = optional_text(11);
      s = db::Status{};
      return c;
    }
    case db::StepResult::done: s = db::Status{}; return std::nullopt;
    case db::StepResult::error: s = query->status(); return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::vector<ComplaintNote>> Complaints::notes(std::int64_t id, std::string* error) {
  db::Status status;
  auto query = db_.try_prepare(
      "SELECT at, by, text FROM complaint_notes WHERE complaint_id = ?1 ORDER BY at, id", &status);
  if (!query) {
    if (error) *error = status.message;
    return std::nullopt;
  }
  query->bind(1, id);
  std::vector<ComplaintNote> out;
  status = query->each_row([&] {
    out.push_back({query->column_text(0), query->column_text(1), query->column_text(2)});
  });
  if (!status.ok()) {
    if (error) *error = status.message;
    return std::nullopt;
  }
  return out;
}

std::optional<Table> Complaints::list(std::string_view state, Time now, std::string* error) {
  std::string where;
  if (state == "open" || state == "closed") where = "c.state = ?2";
  else if (state == "all") where = "?2 IS NOT NULL";
  else {
    if (error) *error = "state must be open, closed or all";
    return std::nullopt;
  }
  return complaint_table(db_, where, "c.opened_at, c.id", std::string(state), 0, now, error);
}

std::optional<Table> Complaints::of_member(std::int64_t member_id, Time now, std::string* error) {
  return complaint_table(db_, "c.member_id = ?2", "c.opened_at DESC, c.id DESC", std::nullopt,
                         member_id, now, error);
}

std::optional<Table> Complaints::of_voucher(std::string_view code, Time now, std::string* error) {
  return complaint_table(db_, "c.voucher_code = ?2", "c.opened_at DESC, c.id DESC",
                         std::string(code), 0, now, error);
}

std::optional<Table> Complaints::counts(std::string* error) {
  db::Status status;
  auto query = db_.try_prepare(
      "SELECT category, state, coalesce((julianday(closed_at) - julianday(opened_at)) * 24, 0)"
      " FROM complaints",
      &status);
  if (!query) {
    if (error) *error = status.message;
    return std::nullopt;
  }
  struct Count {
    std::string category;
    std::int64_t open = 0, closed = 0;
    std::vector<std::int64_t> minutes;
  };
  // Every listed category has a row, in the forms' order; a category no
  // longer listed (an older version's) still counts, after them.
  std::vector<Count> counts;
  for (auto name : complaint_categories()) counts.push_back({std::string(name), 0, 0, {}});
  status = query->each_row([&] {
    std::string category = query->column_text(0);
    auto it = std::find_if(counts.begin(), counts.end(),
                           [&](const Count& c) { return c.category == category; });
    if (it == counts.end()) {
      counts.push_back({std::move(category), 0, 0, {}});
      it = counts.end() - 1;
    }
    if (query->column_text(1) == "closed") {
      ++it->closed;
      // Whole minutes: the hours' text is then exact to a tenth.
      it->minutes.push_back(static_cast<std::int64_t>(
          std::stod(query->column_text(2)) * 60 + 0.5));
    } else {
      ++it->open;
    }
  });
  if (!status.ok()) {
    if (error) *error = status.message;
    return std::nullopt;
  }
  Table table;
  table.add_column("category");
  table.add_column("open", true);
  table.add_column("closed", true);
  table.add_column("median_hours_to_close", true);
  for (auto& c : counts) {
    std::string median;
    if (!c.minutes.empty()) {
      std::sort(c.minutes.begin(), c.minutes.end());
      const std::size_t n = c.minutes.size();
      const double m = n % 2 ? static_cast<double>(c.minutes[n / 2])
                             : static_cast<double>(c.minutes[n / 2 - 1] + c.minutes[n / 2]) / 2;
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.1f", m / 60);
      median = buffer;
    }
    table.rows.push_back(
        {c.category, std::to_string(c.open), std::to_string(c.closed), std::move(median)});
  }
  return table;
}

}  // namespace giftgate
