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
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "drills.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
. "$root/scripts/loadgen-campaign.sh"
loadgen_programs

if [ $short -eq 1 ]; then
  rate=50; kills=3; pause=2; refuse=8; silent=5; backup_rate=200
else
  rate=200; kills=20; pause=5; refuse=60; silent=10; backup_rate=1000
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

# Quick to notice a silent SMSC, and to send again.
config() {
  loadgen_config "$1" "$2" <<END
  window: 10
  enquire_link_seconds: 1
  response_timeout_seconds: 2
  reconnect_max_seconds: 2
outbox:
  first_resend_seconds: 1
END
}
loadgen_campaign "$work" $members

# --- one drill's processes ---------------------------------------------------

field() { { grep -oE "(^| )$1=[^ ]+" "$2" || true; } | tail -n 1 | cut -d= -f2; }
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

# Sends a command and waits (bounded: 60 s) for its answer, which it prints.
ask() {
  local cmd=${1%% *} before t=0
  before=$(grep -cE "^ok cmd=$cmd( |$)" "$out" || true)
  send "$@"
  while [ "$(grep -cE "^ok cmd=$cmd( |$)" "$out" || true)" -le "$before" ] && [ $t -lt 600 ]; do
    sleep 0.1; t=$((t + 1))
  done
  { grep -E "^ok cmd=$cmd( |$)" "$out" || true; } | tail -n 1
}

begin() {  # $1 drill name, $2 database path (default: a copy in the work dir)
  name=$1
  db=${2:-$work/$name.db}
  cp "$work/campaign.db" "$db"
  out=$work/$name.out
  mkfifo "$work/$name.ctl"
  "$loadgen" smsc --port 0 --members $members --rate $rate --control --db "$db" --settle 90 \
    < "$work/$name.ctl" > "$out" 2> "$work/$name.loadgen.log" &
  lg_pid=$!
  exec {ctl_fd}> "$work/$name.ctl"
  local t=0
  while ! grep -q '^ready port=' "$out" && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done
  config "$(field port "$out")" "$db" > "$work/$name.yaml"
  start_daemon
  wait_bound 1
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

printf -v header '%-10s %7s %7s %7s %10s %7s  %s' drill MOs acked effects duplicates losses notes
rows=("$header")
failed=0
row() {
  local result
  result=$(field result "$out")
  # Once the fault is over, everything the SMSC sent is acknowledged.
  if [ "$result" = ok ] && [ "$(field acked "$out")" != "$(field mos "$out")" ]; then
    result="FAIL(not all acknowledged)"
  fi
  # Every broken PDU refused with generic_nack, on the one bind.
  if [ "$1" = malformed ] && [ "$result" = ok ] &&
     { [ "$(field generic_nacks "$out")" != "$(field malformed_sent "$out")" ] || [ "$(field binds "$out")" != 1 ]; }; then
    result="FAIL(not every broken PDU nacked on one bind)"
  fi
  [ "$result" = ok ] || failed=1
  local note=${2:-}
  [ "$1" = garbled ] && note="replies=$(field garbled_replies "$out")${note:+ $note}"
  printf -v line '%-10s %7s %7s %7s %10s %7s  %s' "$1" "$(field mos "$out")" "$(field acked "$out")" \
    "$(field effects "$out")" "$(field duplicates "$out")" "$(field losses "$out")" \
    "${note:+$note }vouchers=$(field vouchers "$out") binds=$(field binds "$out") nacked=$(field pdus_nacked "$out") generic_nacks=$(field generic_nacks "$out") sent_twice=$(field sent_twice "$out") in_doubt=$(field in_doubt "$out") check=${result:-none}"
  rows+=("$line")
  echo "$line"
  [ "$result" = ok ] || grep -E '^(check|report|settle)' "$out" >&2 || true
}

wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

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

echo
echo "== Drills ($([ $short -eq 1 ] && echo short || echo full) form, $rate MO/s of load)"
printf '%s\n' "${rows[@]}"
exit $failed
