// TEMPORARY: Service::notify as declared in service.hpp, only so that the
// website's sign-in (web_login.cpp) builds and is tested before the real
// one (in service.cpp, branch h-points) is merged. Drop this file and its
// line in CMakeLists.txt when merging that branch.
#include "daemon/campaign/service.hpp"

namespace giftgate {

db::Status Service::notify(const std::string& msisdn, std::optional<std::int64_t> member_id,
                           const std::string& language, const std::string& message,
                           const TemplateValues& values, Time now, std::int64_t* id) {
  auto insert = db_.prepare(
      "INSERT INTO outbox(msisdn, member_id, message, language, body, inbox_id, "
      "next_attempt_at, created_at, channel, priority, fair_at) "
      "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 'sms', ?, ?)");
  insert.bind(1, msisdn);
  if (member_id) insert.bind(2, *member_id);
  else insert.bind(2, std::nullopt);
  const auto s = insert.bind(3, message)
                     .bind(4, language)
                     .bind(5, templates_->render(message, language, values))
                     .bind(6, iso_time(now))
                     .bind(7, iso_time(now))
                     .bind(8, kPriorityReply)
                     .bind(9, iso_time(now))
                     .run();
  if (s.ok() && id) *id = db_.last_insert_id();
  return s;
}

}  // namespace giftgate
