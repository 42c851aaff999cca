// Pushes: a message the campaign sends first, to an audience of members
// (giftctl push create), and what it did (giftctl push show). Knows nothing
// of PDUs or of the daemon's loop: giftgated calls step() when it has room.
//
// The contract, each point recorded in the database so a restart (even a
// SIGKILL) goes on where the last commit stopped:
// - A push is selected, then sent. Selection copies every member the
//   audience matches (opted-out members excluded) into push_recipients, a
//   range of member ids per step, the range's end kept in the push's row in
//   the same transaction: nobody is selected twice or skipped. --holdout
//   sets a deterministic share of them aside ('holdout'): never sent, the
//   group the effect is measured against.
// - Sending gives each recipient a turn, in member id order, the cursor in
//   the push's row moved in the transaction that queues them: each member
//   is queued at most once per push. A member whose turn comes and who has
//   opted out (TD) since selection is 'opted_out'; one who was queued a push
//   (any push) within pushes.member_interval_hours is 'too_soon'; a held-out
//   member's turn only records the time, for the comparison.
// - A push's messages are outbox messages of priority bulk with its
//   push_id: they go only with what replies leave, and every one ends in one
//   final state as any message does. At most pushes.max_queued wait in the
//   outbox at a time, and the push's rate (--rate, else pushes.rate) holds
//   the pace: the rest wait as members, so pause, opt-out and --until act
//   on them at once. A member who opts out while a message of theirs still
//   waits in the outbox has it expired (member_opted_out).
// - Nothing is queued inside pushes.quiet_hours (in the campaign's zone);
//   the push goes on after them.
// - A push ends 'done' when every recipient has had a turn, 'expired' at
//   --until (its messages still waiting are expired, the members whose turn
//   had not come are counted as expired), 'cancelled' by cancel (the same
//   with its messages). Paused, it keeps its place and its messages already
//   queued go.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// What an operator asks for (giftctl push create).
struct PushSpec {
  std::string name;           // 1 to 40 of a-z, 0-9, '-', '_'
  std::string template_name;  // a push_... text of templates/messages.yaml
  std::string audience;       // an audience expression (audience.hpp)
  std::optional<Time> at;     // when it starts; none: now
  std::optional<Time> until;  // when what is left expires; none: never
  int holdout_pct = 0;        // 0 to 90: the share set aside for comparison
  std::optional<int> rate;    // messages a second; none: pushes.rate
};

// A push's messages by outbox state, from push_counts.
struct PushMessages {
  std::int64_t queued = 0, submitted = 0, delivered = 0, failed = 0, expired = 0;
  std::int64_t sent = 0;  // left the queue at least once
};

struct PushInfo {
  std::int64_t id = 0;
  std::string name, template_name, audience;
  std::string state;  // scheduled, selecting, sending, done, cancelled, expired
  bool paused = false;
  std::string start_at, until_at, created_at, created_by, started_at, finished_at;  // ISO, or ""
  int holdout_pct = 0;
  std::optional<int> rate;
  std::int64_t targeted = 0;  // selected, held out included
  std::int64_t held_out = 0;
  // Recipients by what their turn gave: pending, holdout, queued,
  // opted_out, too_soon; for a push that ended, the pending ones are
  // counted as 'expired' or 'cancelled' (show only; list leaves it empty).
  std::map<std::string, std::int64_t> recipients;
  PushMessages messages;
};

// Did the push make members redeem? Vouchers issued to each group within 1,
// 3 and 7 days of the member's turn (the held-out members' turn is when the
// push reached their place in the order, so both groups are compared over
// the same days).
struct PushEffect {
  static constexpr std::array<int, 3> kDays = {1, 3, 7};
  struct Group {
    std::int64_t members = 0;
    std::array<std::int64_t, 3> redeemed{};  // members with a voucher issued within kDays[i]
  };
  Group sent;     // recipients queued a message
  Group holdout;  // held out, whose turn came
  std::int64_t opted_out_since = 0;  // recipients who opted out after their message was queued
  // The redemption rate of the sent group minus the holdout's, in
  // percentage points; nullopt without a holdout whose turn came.
  std::optional<double> lift(std::size_t window) const;
};

class Pushes {
 public:
  // templates may be null for what renders nothing (list, show, effect,
  // pause, resume, cancel, live); create, test and step need them.
  Pushes(db::Database& db, const CampaignConfig& config, std::shared_ptr<const Templates> templates);
  void set_templates(std::shared_ptr<const Templates> templates) { templates_ = std::move(templates); }

  // A new push, or with dry_run only its audience counted. invalid: a name,
  // template, audience, time, holdout or rate that is wrong (error says
  // which); exists: the name is taken.
  struct Created {
    enum class Status { created, dry_run, invalid, exists, failed };
    Status status = Status::failed;
    std::int64_t id = 0;
    std::int64_t audience = 0;  // members it matches now, opted-out ones excluded
    std::string error;
  };
  Created create(const PushSpec& spec, const Actor& actor, Time now, bool dry_run);

  // Every push, newest first, without recipient counts; nullopt on a database error.
  std::optional<std::vector<PushInfo>> list(std::string* error);
  enum class Found { found, not_found, failed };
  Found show(const std::string& name, PushInfo& info, std::string* error);
  Found effect(const std::string& name, PushEffect& effect, std::string* error);

  // pause, resume, cancel: not_allowed when the push's state does not
  // allow it (resume of one not paused, anything of one that ended).
  struct Changed {
    enum class Status { done, not_found, not_allowed, failed };
    Status status = Status::failed;
    std::string error;
  };
  Changed pause(const std::string& name, const Actor& actor, Time now);
  Changed resume(const std::string& name, const Actor& actor, Time now);
  Changed cancel(const std::string& name, const Actor& actor, Time now);

  // The push's text to staff numbers before it goes: rendered for each
  // number's member (sample values for a number that is none), queued as a
  // reply at once, outside the push's counts and rules.
  struct Tested {
    enum class Status { queued, not_found, invalid, failed };
    Status status = Status::failed;
    std::vector<std::string> texts;  // as queued, one per number
    std::string error;
  };
  Tested test(const std::string& name, const std::vector<std::string>& msisdns,
              const Actor& actor, Time now);

  // One step for giftgated: starts pushes whose time came, selects one
  // batch of a push being selected, or gives one batch of recipients of a
  // push being sent their turn (within its rate over `elapsed` since the
  // last step, and its room in the outbox), ends pushes at --until or when
  // every turn is given. Each batch is one transaction.
  struct Step {
    int selected = 0;  // recipients selected
    int queued = 0;    // messages queued
    int skipped = 0;   // turns that queued nothing (opted out, too soon, held out)
    bool more = false;  // a push is being selected or sent: step again soon
    std::vector<std::string> started, finished;  // push names, for the log
    db::Status status;
  };
  // `limit`: at most this many members selected or given a turn per push
  // (0: pushes.batch), so that a step inside a caller's open transaction
  // stays short.
  Step step(Time now, std::chrono::milliseconds elapsed, std::size_t limit = 0);

  // The pushes not yet ended and their messages (metrics); nullopt on a database error.
  std::optional<std::vector<std::pair<std::string, PushMessages>>> live();

  // A member opted out (TD): their push messages still waiting are expired.
  // Part of the caller's transaction.
  static db::Status member_opted_out(db::Database& db, std::int64_t member_id, Time now);

 private:
  Changed set_paused(const std::string& name, bool paused, const Actor& actor);

  db::Database& db_;
  const CampaignConfig& config_;
  std::shared_ptr<const Templates> templates_;
  // Messages each sending push may still queue (its rate's credit).
  std::map<std::int64_t, double> credit_;
};

// The values a push's text is filled with for one member (see the push_
// family in templates.cpp); nullopt with `error` on a database error.
std::optional<TemplateValues> push_values(db::Database& db, const CampaignConfig& config,
                                          const Templates& templates, std::int64_t member_id,
                                          const std::string& city, const std::string& language,
                                          Time now, std::string* error);

}  // namespace giftgate
