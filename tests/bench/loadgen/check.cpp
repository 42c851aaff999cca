#include "tests/bench/loadgen/check.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace giftgate::bench {
namespace {

using Db = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using Stmt = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

Stmt query(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
    throw std::runtime_error(fmt::format("check: {}: {}", sql, sqlite3_errmsg(db)));
  return {s, &sqlite3_finalize};
}

std::string text(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  return p ? reinterpret_cast<const char*>(p) : "";
}

std::int64_t single(sqlite3* db, const char* sql) {
  auto s = query(db, sql);
  return sqlite3_step(s.get()) == SQLITE_ROW ? sqlite3_column_int64(s.get(), 0) : -1;
}

// The rows of a "SELECT key, COUNT(*) ... GROUP BY 1", by key.
std::map<std::string, std::int64_t> counts(sqlite3* db, const char* sql) {
  std::map<std::string, std::int64_t> out;
  auto q = query(db, sql);
  while (sqlite3_step(q.get()) == SQLITE_ROW) out[text(q.get(), 0)] = sqlite3_column_int64(q.get(), 1);
  return out;
}

}  // namespace

CheckResult check_database(const std::string& path, const Scenario& scenario,
                           const std::vector<const Smsc*>& smscs) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return {false, {fmt::format("check error=cannot_open path={}", path)}};
  }
  Db db(raw, &sqlite3_close);
  sqlite3_busy_timeout(db.get(), 5000);
  CheckResult r;

  // 1. MOs: each acknowledged MO has its inbox row; none has more rows than
  // it was sent (a redelivery that took effect again would). A question
  // (balance) is the exception giftgated(8) documents: it is answered again
  // when it is delivered again, so it may have one row per delivery.
  struct Seen {
    std::int64_t sent = 0, acked = 0, stored = 0;
    std::int64_t redelivered = 0;  // of questions only: PDUs beyond the first
  };
  std::map<std::pair<std::string, std::string>, Seen> by_text;
  std::int64_t garbled_acked = 0, garbled_sent = 0, sent = 0, acked = 0;
  std::map<std::string, std::int64_t> confirms_acked, confirms_sent;
  std::vector<std::string> verified;  // codes a merchant's acknowledged HX named
  std::vector<const Mo*> mos;
  std::int64_t in_doubt = 0;
  for (const Smsc* smsc : smscs) {
    for (const auto& mo : smsc->mos()) mos.push_back(&mo);
    in_doubt += static_cast<std::int64_t>(smsc->counters().in_doubt);
  }
  for (const Mo* each : mos) {
    const Mo& mo = *each;
    ++sent;
    acked += mo.acked;
    if (mo.kind == Kind::garbled) {
      ++garbled_sent;
      garbled_acked += mo.acked;
      continue;
    }
    auto& s = by_text[{mo.from, mo.text}];
    ++s.sent;
    s.acked += mo.acked;
    if (mo.kind == Kind::balance)
      s.redelivered += std::max<std::int64_t>(
          0, mo.deliveries - static_cast<std::int64_t>(mo.parts.size()));
    if (mo.kind == Kind::confirm) {
      ++confirms_sent[mo.from];
      confirms_acked[mo.from] += mo.acked;
    }
    if (mo.kind == Kind::verify && mo.acked) verified.push_back(mo.text.substr(3));
  }
  {
    auto q = query(db.get(),
                   "SELECT msisdn, body, COUNT(*) FROM inbox WHERE channel = 'sms' GROUP BY 1, 2");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      auto it = by_text.find({text(q.get(), 0), text(q.get(), 1)});
      if (it != by_text.end()) it->second.stored = sqlite3_column_int64(q.get(), 2);
    }
  }
  std::int64_t lost = 0, twice = 0, asked_again = 0;
  for (const auto& [key, s] : by_text) {
    lost += std::max<std::int64_t>(0, s.acked - s.stored);
    const std::int64_t extra = std::max<std::int64_t>(0, s.stored - s.sent);
    asked_again += std::min(extra, s.redelivered);
    twice += extra - std::min(extra, s.redelivered);
  }
  const std::int64_t garbled_stored =
      single(db.get(), "SELECT COUNT(*) FROM inbox WHERE msisdn LIKE '86136%'");
  const std::int64_t garbled_lost = std::max<std::int64_t>(0, garbled_acked - garbled_stored);

  // 2. Vouchers and deductions, per member against the confirms.
  auto vouchers = counts(
      db.get(),
      "SELECT m.msisdn, COUNT(*) FROM vouchers v JOIN members m ON m.id = v.member_id GROUP BY 1");
  std::int64_t vouchers_lost = 0, vouchers_twice = 0, vouchers_total = 0;
  for (const auto& [who, n] : vouchers) {
    vouchers_total += n;
    vouchers_twice += std::max<std::int64_t>(0, n - confirms_sent[who]);
  }
  for (const auto& [who, n] : confirms_acked)
    vouchers_lost += std::max<std::int64_t>(0, n - vouchers[who]);
  const std::int64_t without_deduction = single(
      db.get(),
      "SELECT COUNT(*) FROM vouchers v WHERE (SELECT COUNT(*) FROM ledger l WHERE l.reference = "
      "'redeem:' || v.code AND l.delta < 0) <> 1");
  const std::int64_t deduction_without_voucher = single(
      db.get(),
      "SELECT COUNT(*) FROM ledger l WHERE l.reference LIKE 'redeem:%' AND NOT EXISTS "
      "(SELECT 1 FROM vouchers v WHERE v.code = substr(l.reference, 8))");  // by the key

  // 3. Verified codes are used, exactly once by construction of the schema.
  std::int64_t verify_lost = 0;
  {
    auto q = query(db.get(), "SELECT state FROM vouchers WHERE code = ?");
    for (const auto& code : verified) {
      sqlite3_reset(q.get());
      sqlite3_bind_text(q.get(), 1, code.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(q.get()) != SQLITE_ROW || text(q.get(), 0) != "used") ++verify_lost;
    }
  }

  // 4. Outbound messages: every voucher SMS final; copies sent twice.
  auto voucher_sms = counts(db.get(),
                            "SELECT state, COUNT(*) FROM outbox WHERE voucher_code IS NOT NULL AND "
                            "channel = 'sms' AND message = 'voucher' GROUP BY 1");
  const std::int64_t unsettled = voucher_sms["queued"] + voucher_sms["submitted"];
  const std::int64_t outbox_open =
      single(db.get(), "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'submitted')");
  std::int64_t copies_twice = 0;
  for (const auto& [key, n] : scenario.texts_with_code()) copies_twice += n - 1;

  // 5. Garbled texts: a help reply or nothing, and nothing else done.
  // Their senders are members the rest of the load never uses.
  const auto garbled_replies = counts(
      db.get(), "SELECT message, COUNT(*) FROM outbox WHERE msisdn LIKE '86136%' GROUP BY 1");
  std::int64_t garbled_replies_other = 0;
  for (const auto& [message, n] : garbled_replies)
    // How to use the service, or what was wrong with the request.
    if (message != "help" && message != "unknown_tier" && message != "no_offer" &&
        message != "verify_bad_format")
      garbled_replies_other += n;
  const std::int64_t garbled_effects = single(
      db.get(),
      "SELECT (SELECT COUNT(*) FROM ledger l JOIN members m ON m.id = l.member_id "
      "WHERE m.msisdn LIKE '86136%' AND l.delta < 0) + (SELECT COUNT(*) FROM vouchers v "
      "JOIN members m ON m.id = v.member_id WHERE m.msisdn LIKE '86136%')");
  std::string replies_text;
  for (const auto& [message, n] : garbled_replies)
    replies_text += fmt::format("{}{}:{}", replies_text.empty() ? "" : ",", message, n);

  const std::int64_t losses = lost + garbled_lost + vouchers_lost + verify_lost;
  const std::int64_t duplicates = twice + vouchers_twice;
  r.ok = losses == 0 && duplicates == 0 && without_deduction == 0 &&
         deduction_without_voucher == 0 && unsettled == 0 && copies_twice <= in_doubt &&
         garbled_replies_other == 0 && garbled_effects == 0;
  r.lines.push_back(fmt::format(
      "check mos={} acked={} effects={} duplicates={} losses={} questions_answered_again={} "
      "garbled_sent={} garbled_acked={} garbled_stored={}",
      sent, acked, acked - lost - garbled_lost, duplicates, losses, asked_again, garbled_sent,
      garbled_acked, garbled_stored));
  r.lines.push_back(fmt::format(
      "check vouchers={} vouchers_lost={} vouchers_twice={} without_one_deduction={} "
      "deductions_without_voucher={} verified_not_used={}",
      vouchers_total, vouchers_lost, vouchers_twice, without_deduction, deduction_without_voucher,
      verify_lost));
  r.lines.push_back(fmt::format(
      "check voucher_sms_delivered={} voucher_sms_failed={} voucher_sms_unsettled={} "
      "outbox_open={} sent_twice={} in_doubt={}",
      voucher_sms["delivered"], voucher_sms["failed"], unsettled, outbox_open, copies_twice,
      in_doubt));
  r.lines.push_back(fmt::format("check garbled_replies={} garbled_replies_other={} garbled_effects={}",
                                replies_text.empty() ? "none" : replies_text,
                                garbled_replies_other, garbled_effects));
  r.lines.push_back(fmt::format("check result={}", r.ok ? "ok" : "FAIL"));
  return r;
}

CheckResult check_backup(const std::string& path, const std::vector<const Smsc*>& smscs,
                         const std::vector<std::vector<bool>>& acked_before) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return {false, {fmt::format("result=FAIL error=cannot_open path={}", path)}};
  }
  Db db(raw, &sqlite3_close);
  // The same key as check_database: a member's sender and text.
  std::map<std::pair<std::string, std::string>, std::int64_t> wanted;
  std::int64_t looked_for = 0;
  for (std::size_t s = 0; s < smscs.size() && s < acked_before.size(); ++s) {
    const auto& mos = smscs[s]->mos();
    for (std::size_t i = 0; i < mos.size() && i < acked_before[s].size(); ++i) {
      if (!acked_before[s][i] || mos[i].kind == Kind::garbled) continue;
      ++wanted[{mos[i].from, mos[i].text}];
      ++looked_for;
    }
  }
  std::int64_t missing = looked_for;
  try {
    auto q = query(db.get(),
                   "SELECT msisdn, body, COUNT(*) FROM inbox WHERE channel = 'sms' GROUP BY 1, 2");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      auto it = wanted.find({text(q.get(), 0), text(q.get(), 1)});
      if (it != wanted.end()) missing -= std::min<std::int64_t>(it->second, sqlite3_column_int64(q.get(), 2));
    }
  } catch (const std::exception& e) {
    return {false, {fmt::format("result=FAIL error=\"{}\"", e.what())}};
  }
  CheckResult r;
  r.ok = missing == 0 && looked_for > 0;
  r.lines.push_back(fmt::format("acked_before={} missing={} result={}", looked_for, missing,
                                r.ok ? "ok" : "FAIL"));
  return r;
}

long open_messages(const std::string& path) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return -1;
  }
  Db db(raw, &sqlite3_close);
  sqlite3_busy_timeout(db.get(), 1000);
  return static_cast<long>(
      single(db.get(), "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'submitted')"));
}

}  // namespace giftgate::bench
