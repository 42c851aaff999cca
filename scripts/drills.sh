#!/usr/bin/env bash
# Fault drills: giftgated under load from giftgate-loadgen (playing the SMSC)
# while things break, each drill ending with a check of the database
# against what the SMSC saw: every MO acknowledged has its effect, nothing
# took effect twice, every voucher has exactly one deduction, every voucher
# SMS ended delivered or failed, and copies sent twice are no more than the
# submits whose answer was in doubt.
#
#   scripts/drills.sh                  # every drill, full length (about 10 min)
#   scripts/drills.sh --short          # the short form the tests run (about 3 min)
#   scripts/drills.sh --only kill,disk # some drills (names as in the table)
#   scripts/drills.sh --build-dir DIR  # use the programs built there (no build)
#   GIFTGATE_DRILLS_KEEP=1 scripts/drills.sh ...   # keep the work files
#
# Drills: kill (SIGKILL at random moments, restarting each time), drop (the
# SMSC closes the connection), silent (it stops answering), refuse (binds
# refused for a while), throttle (ESME_RTHROTTLED), msgqful (a burst of
# ESME_RMSGQFUL), lost (submit answers that never come), disk (the disk
# fills, then space returns; needs root to mount a small tmpfs), malformed
# (a storm of broken PDUs), garbled (members' texts no one can read),
# backup (giftctl backup under the bench's load: the copy holds every MO
# acknowledged before it began, passes giftctl check, and restores; the
# replies' p99 before and during it).
# With two SMSCs of two binds each (issue 20), the fault on SMSC 2 while
# SMSC 1 stays up: smsc-drop (SMSC 2 closes its connections), smsc-silent
# (it stops answering), smsc-throttle (ESME_RTHROTTLED), smsc-refuse (its
# binds refused for a while). Each passes only if, besides the check, SMSC
# 2 takes submits again once the fault is over and SMSC 1 kept its binds;
# they are skipped when giftgated does not read the smscs: list.
# push (issue 21): a push to 20,000 members beside the load, on two SMSCs of
# two binds, giftgated killed (SIGKILL) while it selects (when caught) and
# while it sends, restarted each time; passes only if, besides the check,
# the push ends done with no member queued twice, every member selected and
# not held out queued, its counts as the outbox's, every message of it
# final, and no resend beyond the submits left unanswered by the kills.
# Exit status 0 only if every drill lost nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
short=0
only=
bin=
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --short) short=1 ;;
    --only) i=$((i + 1)); only=${!i} ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "drills.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
# shellcheck source=scripts/loadgen-campaign.sh
. "$root/scripts/loadgen-campaign.sh"
loadgen_programs

if [ $short -eq 1 ]; then
  rate=50; kills=3; pause=2; refuse=8; silent=5; backup_rate=200; push_rate=1000; push_kills=2
else
  rate=200; kills=20; pause=5; refuse=60; silent=10; backup_rate=1000; push_rate=500; push_kills=5
fi
members=100000   # enough that no member texts twice within the redelivery window

work=$(mktemp -d "${TMPDIR:-/tmp}/giftgate-drills.XXXXXX")
lg_pid=
daemon_pid=
mounted=
cleanup() {
  local p
  for p in $daemon_pid $lg_pid; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null || true
  if [ "${failed:-0}" -eq 0 ] && [ -z "${GIFTGATE_DRILLS_KEEP:-}" ]; then rm -rf "$work"
  else echo "drills.sh: work files kept in $work" >&2; fi
}
trap cleanup EXIT

# --- the campaign, once; each drill starts from a copy ------------------------

# Quick to notice a silent SMSC, and to send again. $3: binds per SMSC.
config() {
  loadgen_config "$1" "$2" "${3:-1}" <<END
  window: 10
  enquire_link_seconds: 1
  response_timeout_seconds: 2
  reconnect_max_seconds: 2
outbox:
  first_resend_seconds: 1
${extra_config:-}
END
}
loadgen_campaign "$work" $members

# --- one drill's processes ---------------------------------------------------

word() { field "$1" <(printf '%s\n' "$2"); }  # the same, from a line
bounds() { grep -c '^bound ' "$out" || true; }

start_daemon() {
  "$giftgated" --config "$work/$name.yaml" 2>> "$work/$name.giftgated.log" &
  daemon_pid=$!
}

wait_bound() {  # until $1 binds in all (bounded: 30 s)
  local t=0
  while [ "$(bounds)" -lt "$1" ] && [ $t -lt 300 ]; do sleep 0.1; t=$((t + 1)); done
  [ "$(bounds)" -ge "$1" ] || { echo "drills.sh: $name: giftgated did not bind" >&2; return 1; }
}

send() { printf '%s\n' "$*" >&"$ctl_fd"; }

# Sends a command (for one SMSC: "@S command") and waits (bounded: 60 s)
# for its answer, which it prints.
ask() {
  local cmd=${1#@* } before t=0
  cmd=${cmd%% *}
  before=$(grep -cE "^ok cmd=$cmd( |$)" "$out" || true)
  send "$@"
  while [ "$(grep -cE "^ok cmd=$cmd( |$)" "$out" || true)" -le "$before" ] && [ $t -lt 600 ]; do
    sleep 0.1; t=$((t + 1))
  done
  { grep -E "^ok cmd=$cmd( |$)" "$out" || true; } | tail -n 1
}

# $1 drill name, $2 database path (default: a copy in the work dir); with
# $smscs SMSCs of $binds binds each (default 1 and 1), the campaign
# $campaign_db (default the drills' own) and $extra_config's sections.
begin() {
  name=$1
  db=${2:-$work/$name.db}
  drill_fault=
  cp "${campaign_db:-$work/campaign.db}" "$db"
  out=$work/$name.out
  mkfifo "$work/$name.ctl"
  "$loadgen" smsc --port 0 --smscs "${smscs:-1}" --members $members --rate $rate --control \
    --db "$db" --settle 90 < "$work/$name.ctl" > "$out" 2> "$work/$name.loadgen.log" &
  lg_pid=$!
  exec {ctl_fd}> "$work/$name.ctl"
  local t=0
  while ! grep -q '^ready port=' "$out" && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done
  config "$(field ports "$out")" "$db" "${binds:-1}" > "$work/$name.yaml"
  start_daemon
  wait_bound $(( ${smscs:-1} * ${binds:-1} ))
  sleep "$pause"  # under load before anything breaks
}

end() {  # the generator settles, checks, and reports; then the daemon stops
  sleep "$pause"
  send "finish 90"
  exec {ctl_fd}>&-
  local t=0
  while kill -0 "$lg_pid" 2>/dev/null && [ $t -lt 1500 ]; do sleep 0.1; t=$((t + 1)); done
  kill -0 "$lg_pid" 2>/dev/null && { echo "drills.sh: $name: the generator did not finish" >&2; kill -KILL "$lg_pid"; }
  wait "$lg_pid" 2>/dev/null || true
  lg_pid=
  kill -TERM "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=
  row "$name" "${1:-}"
}

printf -v header '%-13s %7s %7s %7s %10s %7s  %s' drill MOs acked effects duplicates losses notes
rows=("$header")
failed=0
row() {
  local result
  result=$(field result "$out")
  # Once the fault is over, everything the SMSC sent is acknowledged.
  if [ "$result" = ok ] && [ "$(field acked "$out")" != "$(field mos "$out")" ]; then
    result="FAIL(not all acknowledged)"
  fi
  # What a drill saw go wrong beside the check (e.g. SMSC 2 not back).
  if [ "$result" = ok ] && [ -n "${drill_fault:-}" ]; then result="FAIL($drill_fault)"; fi
  # Two SMSCs: the fault was on SMSC 2 alone, so SMSC 1 kept its binds.
  if [ "$result" = ok ] && [[ $1 == smsc-* ]] && grep -q '^smsc smsc=2 ' "$out" &&
     [ "$(smsc_field 1 closes)" != 0 ]; then
    result="FAIL(SMSC 1 lost a bind)"
  fi
  # Every broken PDU refused with generic_nack, on the one bind.
  if [ "$1" = malformed ] && [ "$result" = ok ] &&
     { [ "$(field generic_nacks "$out")" != "$(field malformed_sent "$out")" ] || [ "$(field binds "$out")" != 1 ]; }; then
    result="FAIL(not every broken PDU nacked on one bind)"
  fi
  [ "$result" = ok ] || failed=1
  local note=${2:-}
  [ "$1" = garbled ] && note="replies=$(field garbled_replies "$out")${note:+ $note}"
  printf -v line '%-13s %7s %7s %7s %10s %7s  %s' "$1" "$(field mos "$out")" "$(field acked "$out")" \
    "$(field effects "$out")" "$(field duplicates "$out")" "$(field losses "$out")" \
    "${note:+$note }vouchers=$(field vouchers "$out") binds=$(field binds "$out") nacked=$(field pdus_nacked "$out") generic_nacks=$(field generic_nacks "$out") sent_twice=$(field sent_twice "$out") in_doubt=$(field in_doubt "$out") check=${result:-none}"
  rows+=("$line")
  echo "$line"
  [ "$result" = ok ] || grep -E '^(check|report|settle)' "$out" >&2 || true
}

wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# The value of key $2 on SMSC $1's line of the report.
smsc_field() { field "$2" <(grep -E "^smsc smsc=$1 " "$out" || true); }

# Submits SMSC $1 has taken (answered ESME_ROK or lost) so far.
taken() {
  local a s r
  a=$(ask "@$1 stats")
  s=$(word submits "$a")
  r=$(word submits_refused "$a")
  echo $(( ${s:-0} - ${r:-0} ))
}

# Once SMSC 2's fault is over: waits (bounded: 30 s) until it takes a
# submit again; sets $back (e.g. "1.5s", or "never" and $drill_fault).
smsc2_back() {
  local before t=0
  before=$(taken 2)
  while [ "$(taken 2)" -le "$before" ] && [ $t -lt 60 ]; do sleep 0.5; t=$((t + 1)); done
  if [ "$(taken 2)" -gt "$before" ]; then back=$(awk -v t=$t 'BEGIN { printf "%.1fs", t / 2 }')
  else back=never; drill_fault="SMSC 2 took no submits after the fault"; fi
}

smsc_wanted() { wanted "$1"; }

# --- the drills ------------------------------------------------------------

if wanted kill; then
  echo "== kill: SIGKILL $kills times at random moments, restarting each time"
  begin kill
  for k in $(seq 1 $kills); do
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + r / 32768 * 2.5 }')"
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    start_daemon
    wait_bound $((k + 1))
  done
  end "kills=$kills"
fi

if wanted drop; then
  echo "== drop: the SMSC closes the connection three times"
  begin drop
  for _ in 1 2 3; do send drop; sleep 1.5; done
  end
fi

if wanted silent; then
  echo "== silent: the SMSC stops answering for $silent s"
  begin silent
  send "silent $silent"
  sleep "$silent"
  end
fi

if wanted refuse; then
  echo "== refuse: binds refused for $refuse s"
  begin refuse
  send "refuse $refuse"
  sleep "$refuse"
  end "refused=$(grep -c 'bind_refused\|smpp_bind_failed' "$work/refuse.giftgated.log" || true)"
fi

if wanted throttle; then
  echo "== throttle: every submit answered ESME_RTHROTTLED for 5 s"
  begin throttle
  send "throttle 5"
  sleep 5
  end
fi

if wanted msgqful; then
  echo "== msgqful: a burst of 50 ESME_RMSGQFUL"
  begin msgqful
  send "msgqful 50"
  end
fi

if wanted lost; then
  echo "== lost: 5 submit answers never come"
  begin lost
  send "lose_resp 5"
  end
fi

if wanted disk; then
  echo "== disk: the disk fills, then space comes back"
  mkdir -p "$work/disk"
  size=$(( $(stat -c %s "$work/campaign.db") / 1048576 + 48 ))
  if mount -t tmpfs -o "size=${size}m" tmpfs "$work/disk" 2>/dev/null; then
    mounted=$work/disk
    begin disk "$work/disk/disk.db"
    # All the space left, written until the file system refuses. The
    # daemon's log is reused in place, so its writes fail only once the
    # database file must grow (at a checkpoint) and the log with it.
    dd if=/dev/zero of="$work/disk/filler" bs=64k 2>/dev/null || true
    left=$(df --output=avail -B1 "$work/disk" | tail -n 1)
    [ "$left" -lt 1048576 ] || { echo "drills.sh: disk: could not fill it ($left bytes free)" >&2; failed=1; }
    # Full until the daemon says it cannot commit (the log is reused in
    # place, so that may take a while), and 5 s more.
    t=0
    while ! grep -q 'not_committed' "$work/disk.giftgated.log" && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
    sleep 5
    refused=$(grep -c 'not_committed' "$work/disk.giftgated.log" || true)
    [ "$refused" -gt 0 ] || { echo "drills.sh: disk: the daemon never ran out of space" >&2; failed=1; }
    rm -f "$work/disk/filler"
    sleep 3
    end "full_for=$(( t / 10 + 5 ))s refusals_logged=$refused"
    umount "$work/disk" 2>/dev/null || true
    mounted=
  else
    rows+=("disk       skipped: cannot mount a tmpfs here (needs root)")
    echo "disk: skipped, cannot mount a tmpfs (needs root)"
  fi
fi

if wanted malformed; then
  echo "== malformed: 200 broken PDUs amid the load"
  begin malformed
  for _ in 1 2 3 4; do send "malformed 50"; sleep 0.5; done
  end
fi

if wanted garbled; then
  echo "== garbled: 70 texts no one can read (random octets, bad UCS-2, emoji, SQL, 10,000 characters)"
  begin garbled
  send "garbled 70"
  end
fi

if wanted backup; then
  echo "== backup: giftctl backup at $backup_rate MO/s, then its copy checked and restored"
  begin backup
  ask "rate $backup_rate" > /dev/null
  sleep "$((pause * 2))"  # settled at the higher rate
  ask window > /dev/null
  sleep "$pause"
  before=$(ask latency)
  ask snapshot > /dev/null
  ask window > /dev/null
  copy=$work/backup.copy.db
  t0=$(date +%s.%N)
  "$giftctl" --config "$work/backup.yaml" --operator drills backup "$copy" \
    > "$work/backup.giftctl.log" 2>&1 || { echo "drills.sh: backup: giftctl backup failed" >&2; failed=1; }
  took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  during=$(ask latency)
  held=$(ask "check_backup $copy")
  ask "rate $rate" > /dev/null
  echo "$held"
  [[ "$held" == *" result=ok"* ]] || { echo "drills.sh: backup: the copy lacks acknowledged MOs" >&2; failed=1; }
  checked=ok
  "$giftctl" --config "$work/backup.yaml" --db "$copy" check >> "$work/backup.giftctl.log" 2>&1 || checked=FAIL
  restored=$work/backup.restored.db
  "$giftctl" --config "$work/backup.yaml" --db "$restored" --operator drills restore "$copy" \
    >> "$work/backup.giftctl.log" 2>&1 &&
  "$giftctl" --config "$work/backup.yaml" --db "$restored" check >> "$work/backup.giftctl.log" 2>&1 ||
    checked=FAIL
  [ "$checked" = ok ] || { echo "drills.sh: backup: check or restore failed (see $work/backup.giftctl.log)" >&2; failed=1; }
  end "took=${took}s p99_before=$(word p99_ms "$before")ms p99_during=$(word p99_ms "$during")ms samples_during=$(word samples "$during") acked_before=$(word acked_before "$held") copy=$checked"
fi

# --- two SMSCs, the fault on SMSC 2 -------------------------------------------

smsc_drill() {  # $1 drill name, $2 what breaks; the caller runs the fault
  echo "== $1: two SMSCs of two binds; on SMSC 2, $2"
  smscs=2 binds=2 begin "$1"
}

smsc_end() {  # SMSC 2 back, then the check
  smsc2_back
  end "smsc2_back_after=$back"
  row_detail
}

# Each SMSC's and each bind's share, under the row.
row_detail() {
  local line
  line=$(grep -E '^smsc smsc=' "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "smsc%s: mos=%s submits=%s refused=%s closes=%s in_doubt=%s  ", v["smsc"], v["mo_sent"],
           v["submits"], v["submits_refused"], v["closes"], v["in_doubt"] }')
  rows+=("           $line")
  echo "           $line"
}

if smsc_wanted smsc-drop; then
  smsc_drill smsc-drop "the connections closed three times"
  for _ in 1 2 3; do send "@2 drop"; sleep 1.5; done
  smsc_end
fi

if smsc_wanted smsc-silent; then
  smsc_drill smsc-silent "no answers for $silent s"
  send "@2 silent $silent"
  sleep "$silent"
  smsc_end
fi

if smsc_wanted smsc-throttle; then
  smsc_drill smsc-throttle "every submit answered ESME_RTHROTTLED for 5 s"
  send "@2 throttle 5"
  sleep 5
  smsc_end
fi

if smsc_wanted smsc-refuse; then
  smsc_drill smsc-refuse "the connections closed and binds refused for $refuse s"
  send "@2 refuse $refuse"
  sleep "$refuse"
  smsc_end
fi

# --- a push, giftgated killed while it selects and while it sends -------------

# The push drill's campaign: 40,000 members. The first 20,000 (those
# giftgate-loadgen --members 20000 texts from) carry the load and have opted
# out of care messages, so that the push never reaches a member the
# generator awaits an answer from (it would take the push for the answer);
# the other 20,000 get the push. No senders of garbled texts: the garbled
# check allows them no message but help.
push_campaign() {
  local dir=$work/push-campaign city
  mkdir -p "$dir"
  loadgen_config 2775 "$dir/campaign.db" < /dev/null > "$dir/setup.yaml"
  "$loadgen" csv --dir "$dir" --members 40000 --points 10000000
  awk -F, 'NR == 1 { print $0 ",opt_out"; next }
           /^86138/ { print $0 "," (substr($1, 6) + 0 < 20000 ? 1 : 0) }' \
    "$dir/members.csv" > "$dir/members.push.csv"
  "$giftctl" --config "$dir/setup.yaml" --operator drills --quiet \
    import members "$dir/members.push.csv" > /dev/null
  "$giftctl" --config "$dir/setup.yaml" --operator drills --quiet \
    import merchants "$dir/merchants.csv" > /dev/null
  for city in beijing shanghai shenzhen nanjing fuzhou; do
    "$giftctl" --config "$dir/setup.yaml" --operator drills --quiet \
      stock C "$city" 100000000 > /dev/null
  done
}

# The drill's database, read-only: the drill only looks.
pq() { sqlite3 -readonly -cmd '.timeout 10000' "$db" "$@"; }
push_state() { pq "SELECT state FROM pushes WHERE id = $push"; }
push_count() {  # a push_counts figure: an outbox state, or sent
  pq "SELECT COALESCE((SELECT n FROM push_counts WHERE push_id = $push AND what = '$1'), 0)"
}
push_open() {
  pq "SELECT COUNT(*) FROM outbox WHERE push_id = $push AND state IN ('queued', 'submitted')"
}

# SIGKILL and a restart, bound again. The push's messages the kill left
# submitted without an answer from the SMSC are the ones in doubt (the
# restart sends them again): added to $push_in_doubt.
push_kill() {
  kill -KILL "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  push_kills_done=$((push_kills_done + 1))
  push_in_doubt=$((push_in_doubt + $(pq "SELECT COUNT(*) FROM outbox o WHERE o.push_id = $push
      AND o.state = 'submitted' AND NOT EXISTS (SELECT 1 FROM outbox_parts p
      WHERE p.outbox_id = o.id AND p.attempt = o.attempts AND p.status IS NOT NULL)")))
  start_daemon
  push_bounds=$((push_bounds + 4))
  wait_bound "$push_bounds"
}

# What is wrong with the push once it is over, one line each.
push_problems() {
  local n targeted
  n=$(push_state)
  [ "$n" = "done" ] || echo "the push is ${n:-missing}, not done"
  n=$(pq "SELECT COUNT(*) FROM (SELECT member_id FROM outbox WHERE push_id = $push
                                GROUP BY member_id HAVING COUNT(*) > 1)")
  [ "$n" = 0 ] || echo "$n members queued twice"
  n=$(pq "SELECT COUNT(*) FROM (SELECT msisdn FROM outbox WHERE push_id = $push
                                GROUP BY msisdn HAVING COUNT(*) > 1)")
  [ "$n" = 0 ] || echo "$n numbers sent two messages of the push"
  targeted=$(pq "SELECT targeted FROM pushes WHERE id = $push")
  [ "$targeted" = "$push_members" ] || echo "$targeted selected of the $push_members members not opted out"
  n=$(pq "SELECT COUNT(*) FROM push_recipients WHERE push_id = $push")
  [ "$n" = "$targeted" ] || echo "$n recipients for $targeted selected"
  n=$(pq "SELECT COUNT(*) FROM push_recipients WHERE push_id = $push AND state = 'holdout'")
  [ "$n" = "$(pq "SELECT held_out FROM pushes WHERE id = $push")" ] || echo "$n held out, the push says otherwise"
  # Nobody opted out and no other push: every turn not held out queued one.
  n=$(pq "SELECT COUNT(*) FROM push_recipients WHERE push_id = $push AND state NOT IN ('holdout', 'queued')")
  [ "$n" = 0 ] || echo "$n members selected and not held out never queued ($(pq -separator ' ' \
    "SELECT state, COUNT(*) FROM push_recipients WHERE push_id = $push
     AND state NOT IN ('holdout', 'queued') GROUP BY 1" | tr '\n' ' '))"
  n=$(pq "SELECT (SELECT COUNT(*) FROM push_recipients r WHERE r.push_id = $push AND r.state = 'queued'
                    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = r.outbox_id
                                    AND o.push_id = $push AND o.member_id = r.member_id))
                + (SELECT COUNT(*) FROM outbox o WHERE o.push_id = $push AND NOT EXISTS
                    (SELECT 1 FROM push_recipients r WHERE r.push_id = $push AND r.state = 'queued'
                     AND r.member_id = o.member_id AND r.outbox_id = o.id))")
  [ "$n" = 0 ] || echo "$n messages and queued recipients do not match"
  n=$(pq "SELECT COUNT(*) FROM (SELECT state AS what, COUNT(*) AS n FROM outbox WHERE push_id = $push GROUP BY 1
          UNION ALL SELECT 'sent', COUNT(*) FROM outbox WHERE push_id = $push AND attempts > 0) o
          FULL JOIN (SELECT what, n FROM push_counts WHERE push_id = $push AND n <> 0) c USING (what)
          WHERE o.n IS NOT c.n")
  [ "$n" = 0 ] || echo "push_counts differs from the outbox in $n states"
  n=$(push_open)
  [ "$n" = 0 ] || echo "$n messages of the push not final"
  n=$(pq "SELECT COUNT(*) FROM outbox WHERE push_id = $push AND attempts > 1")
  [ "$n" -le "$push_in_doubt" ] || echo "$n messages sent again, $push_in_doubt in doubt at the kills"
}

if wanted push; then
  echo "== push: 20,000 members at $push_rate a second beside the load, two SMSCs of two binds;" \
       "SIGKILL while it selects (when caught) and $push_kills times while it sends"
  push_campaign
  extra_config=$'pushes:\n  quiet_hours: "00:00-00:00"' campaign_db=$work/push-campaign/campaign.db \
    members=20000 smscs=2 binds=2 begin push
  push_bounds=4 push_kills_done=0 push_in_doubt=0 caught=no
  push_members=$(pq "SELECT COUNT(*) FROM members WHERE care_opt_out = 0")
  "$giftctl" --config "$work/push.yaml" --operator drills push create drill-push --template push_tips \
    --audience all --holdout 10 --rate "$push_rate" > "$work/push.create.log" 2>&1 ||
    echo "drills.sh: push: giftctl push create failed: $(cat "$work/push.create.log")" >&2
  push=$(pq "SELECT id FROM pushes WHERE name = 'drill-push'")
  if [ -n "$push" ]; then
    # While it selects, if that lasts long enough to be seen (bounded: 20 s).
    t=0
    while [ $t -lt 400 ]; do
      case $(pq "SELECT state || ' ' || targeted FROM pushes WHERE id = $push") in
        scheduled*|"selecting 0") ;;
        selecting*) push_kill; caught=yes; break ;;
        *) break ;;
      esac
      sleep 0.05; t=$((t + 1))
    done
    t=0
    while [[ $(push_state) == @(scheduled|selecting) ]] && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
    to_send=$(pq "SELECT targeted - held_out FROM pushes WHERE id = $push")
    # The kills spread over the sending: each once a further share is sent
    # (bounded: 120 s each).
    for k in $(seq 1 "$push_kills"); do
      t=0
      while [ "$(push_count sent)" -lt $((to_send * k / (push_kills + 1))) ] &&
            [ "$(push_state)" = sending ] && [ $t -lt 1200 ]; do
        sleep 0.1; t=$((t + 1))
      done
      if [ "$(push_state)" != sending ]; then
        drill_fault="the push was $(push_state) before kill $k while sending"
        break
      fi
      push_kill
    done
    # Until it is done and every message of it final (bounded: 180 s).
    t=0
    until { [ "$(push_state)" = "done" ] && [ "$(push_open)" = 0 ]; } || [ $t -ge 1800 ]; do
      sleep 0.1; t=$((t + 1))
    done
    mapfile -t push_faults < <(push_problems)
    if [ ${#push_faults[@]} -gt 0 ]; then
      printf 'drills.sh: push: %s\n' "${push_faults[@]}" >&2
      drill_fault="${drill_fault:+$drill_fault; }${push_faults[0]}"
    fi
    note="selecting_killed=$caught kills=$push_kills_done pushed=$to_send delivered=$(push_count delivered)"
    note+=" resent=$(pq "SELECT COUNT(*) FROM outbox WHERE push_id = $push AND attempts > 1") in_doubt_at_kills=$push_in_doubt"
  else
    drill_fault="no push created"
    note=
  fi
  end "$note"
fi

echo
echo "== Drills ($([ $short -eq 1 ] && echo short || echo full) form, $rate MO/s of load)"
printf '%s\n' "${rows[@]}"
exit $failed
