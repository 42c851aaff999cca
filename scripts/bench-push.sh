#!/usr/bin/env bash
# A push to millions of members (issue 21, "Scale, crash safety, effect"):
# giftgated against giftgate-loadgen playing the SMSCs, every submit answered
# with a receipt, no MOs; a push of push_tips to `all` with a holdout of 10 %,
# created with giftctl push create on generated members. Measures:
#   - selection: from the push's creation until every member is selected
#     (its state leaves scheduled and selecting), and the database's growth
#     by then per member selected
#   - sending: messages sent (left the queue) and delivered (receipt) per
#     second over a steady window, and the spread over the binds
#   - giftgated's peak RSS (VmHWM; goal: under 128 MiB, memory not growing
#     with the audience), the database's growth per message sent, database
#     and WAL together, and the whole time
#
#   scripts/bench-push.sh                  # 10,000,000 members, 4 binds; sending
#                                          # measured for --window seconds, the
#                                          # rest left (said in the results)
#   scripts/bench-push.sh --short          # the smoke form the tests run: 20,000
#                                          # members sent to the end; fails if
#                                          # nothing is sent, a member has two
#                                          # messages of the push, or one selected
#                                          # and not held out never had one
#   scripts/bench-push.sh --members N      # members generated (10,000,000)
#   scripts/bench-push.sh --binds B        # 1: one SMSC of one bind; an even B:
#                                          # two SMSCs of B/2 binds each (4)
#   scripts/bench-push.sh --window S       # seconds of sending measured (120)
#   scripts/bench-push.sh --all            # send to the end, however long
#   scripts/bench-push.sh --build-dir DIR  # use the programs built there
#   GIFTGATE_BENCH_WINDOW=W ...            # each bind's SMPP window (10)
#   GIFTGATE_PUSH_BATCH=N, GIFTGATE_PUSH_MAX_QUEUED=N ...   # pushes.batch (500),
#                                          # pushes.max_queued (2000)
#
# Work files go to $GIFTGATE_BENCH_DIR/push (default build/bench/push); the
# database is made anew each run (tests/bench/gen-members.sh). Every process
# the script starts it stops again, by process id.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
members=10000000
binds=4
window=120
short=0
to_end=0
bin=
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --short) short=1; members=20000; to_end=1 ;;
    --members) i=$((i + 1)); members=${!i} ;;
    --binds) i=$((i + 1)); binds=${!i} ;;
    --window) i=$((i + 1)); window=${!i} ;;
    --all) to_end=1 ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "bench-push.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
if [ "$binds" = 1 ]; then smscs=1; binds_each=1
elif [[ $binds =~ ^[0-9]+$ ]] && [ $((binds % 2)) -eq 0 ] && [ "$binds" -ge 2 ]; then
  smscs=2; binds_each=$((binds / 2))
else echo "bench-push.sh: --binds wants 1 or an even number" >&2; exit 2; fi

# shellcheck source=scripts/loadgen-campaign.sh
. "$root/scripts/loadgen-campaign.sh"
loadgen_programs
command -v sqlite3 > /dev/null ||
  { echo "bench-push.sh: needs the sqlite3 program (scripts/bootstrap.sh installs it)" >&2; exit 2; }

work=${GIFTGATE_BENCH_DIR:-$bin/bench}/push
rm -rf "$work"
mkdir -p "$work"
db=$work/push.db
out=$work/loadgen.out
pids=()
ctl_fd=
cleanup() {
  [ -n "$ctl_fd" ] && exec {ctl_fd}>&- 2>/dev/null
  stop_pids "${pids[@]}"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }
# The database as giftgated reads it, from a read-only connection: the
# script never writes it.
q() { sqlite3 -readonly -cmd '.timeout 10000' "$db" "$@"; }
size_of() {  # the database with its WAL, bytes
  local s=0 f
  for f in "$db" "$db-wal"; do [ -f "$f" ] && s=$((s + $(stat -c %s "$f"))); done
  echo $s
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# No MOs: the generator's rate 0 means as fast as answered, so a rate that
# gives its first MO after 1,000 s. Quiet hours none, so that the run does
# not depend on the hour; the interval between pushes does not matter to a
# single push to fresh members.
config() {
  loadgen_config "$1" "$db" "$binds_each" 0 <<END
  window: ${GIFTGATE_BENCH_WINDOW:-10}
pushes:
  quiet_hours: "00:00-00:00"
  member_interval_hours: 72
  rate: 0
  batch: ${GIFTGATE_PUSH_BATCH:-500}
  max_queued: ${GIFTGATE_PUSH_MAX_QUEUED:-2000}
END
}

echo "== $members members generated (tests/bench/gen-members.sh)"
config 2775 > "$work/setup.yaml"
t=$(now)
"$root/tests/bench/gen-members.sh" --giftctl "$giftctl" --config "$work/setup.yaml" --db "$db" \
  --members "$members"
gen_s=$(since "$t")
size_before=$(size_of)
not_opted_out=$(q "SELECT COUNT(*) FROM members WHERE care_opt_out = 0")
echo "  took ${gen_s}s; database $(mib "$size_before") MiB; $not_opted_out members not opted out"

echo "== giftgated against $smscs SMSC(s) of $binds_each bind(s), a receipt for every part"
mkfifo "$work/loadgen.ctl"
"$loadgen" smsc --port 0 --smscs "$smscs" --members 1000 --rate 0.001 --control \
  < "$work/loadgen.ctl" > "$out" 2> "$work/loadgen.log" &
lg_pid=$!
pids+=("$lg_pid")
exec {ctl_fd}> "$work/loadgen.ctl"
for _ in $(seq 1 100); do grep -q '^ready ' "$out" && break; sleep 0.05; done
grep -q '^ready ' "$out" || { echo "bench-push.sh: the generator did not start" >&2; exit 1; }
config "$(field ports "$out")" > "$work/giftgated.yaml"
"$giftgated" --config "$work/giftgated.yaml" 2> "$work/giftgated.log" &
daemon=$!
pids+=("$daemon")
for _ in $(seq 1 300); do [ "$(grep -c '^bound ' "$out")" -ge "$binds" ] && break; sleep 0.1; done
[ "$(grep -c '^bound ' "$out")" -ge "$binds" ] ||
  { echo "bench-push.sh: giftgated did not bind $binds times in 30 s" >&2; exit 1; }

echo "== push to all, holdout 10 %"
name=bench-push
t_create=$(now)
"$giftctl" --config "$work/giftgated.yaml" --operator bench push create "$name" \
  --template push_tips --audience all --holdout 10 > "$work/create.out" 2>&1 ||
  { cat "$work/create.out" >&2; echo "bench-push.sh: giftctl push create failed" >&2; exit 1; }
create_s=$(since "$t_create")
push=$(q "SELECT id FROM pushes WHERE name = '$name'")
[ -n "$push" ] || { echo "bench-push.sh: no push $name in the database" >&2; exit 1; }
echo "  created in ${create_s}s: $(tr '\n' ' ' < "$work/create.out")"

# Samples every few seconds: "t state targeted held_out sent delivered
# open rss_kb", t from the creation.
interval=5
[ $short -eq 1 ] && interval=0.5
samples=$work/samples
: > "$samples"
sample() {
  local row rss
  row=$(q -separator ' ' "SELECT state, targeted, held_out,
      COALESCE((SELECT n FROM push_counts WHERE push_id = $push AND what = 'sent'), 0),
      COALESCE((SELECT n FROM push_counts WHERE push_id = $push AND what = 'delivered'), 0),
      COALESCE((SELECT SUM(n) FROM push_counts WHERE push_id = $push
                AND what IN ('queued', 'submitted')), 0)
    FROM pushes WHERE id = $push")
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon/status" 2>/dev/null || echo 0)
  echo "$(since "$t_create") $row $rss" >> "$samples"
  read -r s_t s_state s_targeted s_held s_sent _ s_open _ <<< "$(tail -n 1 "$samples")"
}

# Selection, bounded: 20 s a million members, at least a minute.
limit=$(( members / 50000 + 60 ))
selected_at=
while :; do
  kill -0 "$daemon" 2>/dev/null || { echo "bench-push.sh: giftgated exited (see $work/giftgated.log)" >&2; exit 1; }
  sample
  if [ "$s_state" != scheduled ] && [ "$s_state" != selecting ]; then selected_at=$s_t; break; fi
  awk -v t="$s_t" -v l="$limit" 'BEGIN { exit !(t > l) }' && break
  sleep "$interval"
done
[ -n "$selected_at" ] || { echo "bench-push.sh: selection not over in ${limit}s: $(tail -n 1 "$samples")" >&2; exit 1; }
size_selected=$(size_of)
targeted=$s_targeted
held_out=$s_held
echo "  selected $targeted (held out $held_out) in ${selected_at}s"

# Sending: to the end (--short, --all), or for the window after a warm-up
# of 10 s from the first message sent. Bounded either way.
warmup=10
[ $short -eq 1 ] && warmup=0
to_send=$((targeted - held_out))
if [ $to_end -eq 1 ]; then limit=$(awk -v s="$selected_at" -v n="$to_send" 'BEGIN { printf "%d", s + 60 + n / 500 }')
else limit=$(awk -v s="$selected_at" -v w="$window" 'BEGIN { printf "%d", s + w + 300 }'); fi
[ $short -eq 1 ] && limit=$(awk -v s="$selected_at" 'BEGIN { printf "%d", s + 60 }')
first_sent=
while :; do
  kill -0 "$daemon" 2>/dev/null || { echo "bench-push.sh: giftgated exited (see $work/giftgated.log)" >&2; exit 1; }
  sample
  [ -z "$first_sent" ] && [ "$s_sent" -gt 0 ] && first_sent=$s_t
  if [ "$s_state" = "done" ] && [ "$s_open" = 0 ]; then break; fi
  if [ $to_end -eq 0 ] && [ -n "$first_sent" ] &&
     awk -v t="$s_t" -v f="$first_sent" -v w="$window" -v u="$warmup" 'BEGIN { exit !(t >= f + u + w) }'; then
    break
  fi
  awk -v t="$s_t" -v l="$limit" 'BEGIN { exit !(t > l) }' && break
  sleep "$interval"
done
end_t=$s_t
peak_rss=$(rss_of "$daemon")
wal_end=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
state=$s_state

# The steady window: from the warm-up's end to the last sample before the
# sent count (and the delivered count) stopped growing, or the window's end.
read -r w_s w_sent w_delivered <<< "$(awk -v f="${first_sent:-0}" -v u="$warmup" -v w="$window" -v all="$to_end" '
  $1 >= f + u && !started { t0 = $1; s0 = $5; d0 = $6; started = 1 }
  started && (all || $1 <= t0 + w + 0.01) && $5 > ls { t1 = $1; s1 = $5; ls = $5 }
  started && (all || $1 <= t0 + w + 0.01) && $6 > ld { t2 = $1; d1 = $6; ld = $6 }
  END { if (t1 > t0) printf "%.1f %.0f %.0f", t1 - t0, (s1 - s0) / (t1 - t0), (t2 > t0 ? (d1 - d0) / (t2 - t0) : 0)
        else print "0 0 0" }' "$samples")"

# giftgated stops first, so that the counts below are those of the sizes
# measured; then the generator settles (no binds left: at most 10 s) and
# reports submits per bind and receipts.
kill -TERM "$daemon" 2>/dev/null || true
for _ in $(seq 1 300); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
size_stopped=$(size_of)
printf 'finish 10\n' >&"$ctl_fd"
exec {ctl_fd}>&-
ctl_fd=
for _ in $(seq 1 300); do kill -0 "$lg_pid" 2>/dev/null || break; sleep 0.1; done
"$giftctl" --config "$work/giftgated.yaml" push show "$name" > "$work/show.out" 2>&1 || true

# --- the checks --------------------------------------------------------------
problems=()
sent=$(q "SELECT COUNT(*) FROM outbox WHERE push_id = $push AND attempts > 0")
delivered=$(q "SELECT COUNT(*) FROM outbox WHERE push_id = $push AND state = 'delivered'")
queued_rows=$(q "SELECT COUNT(*) FROM outbox WHERE push_id = $push")
[ "$sent" -gt 0 ] || problems+=("nothing was sent")
twice=$(q "SELECT COUNT(*) FROM (SELECT msisdn FROM outbox WHERE push_id = $push
                                 GROUP BY msisdn HAVING COUNT(*) > 1)")
[ "$twice" = 0 ] || problems+=("$twice members have more than one message of the push")
# Selection: every member not opted out, none twice (the key), none opted out.
[ "$targeted" = "$not_opted_out" ] ||
  problems+=("$targeted selected of the $not_opted_out members not opted out")
opted_in=$(q "SELECT COUNT(*) FROM push_recipients r JOIN members m ON m.id = r.member_id
              WHERE r.push_id = $push AND m.care_opt_out = 1")
[ "$opted_in" = 0 ] || problems+=("$opted_in opted-out members selected")
# A queued recipient has its message, and every message its recipient.
unmatched=$(q "SELECT (SELECT COUNT(*) FROM push_recipients r WHERE r.push_id = $push
                         AND r.state = 'queued' AND NOT EXISTS (SELECT 1 FROM outbox o
                         WHERE o.id = r.outbox_id AND o.push_id = $push AND o.member_id = r.member_id))
                     + (SELECT COUNT(*) FROM outbox o WHERE o.push_id = $push AND NOT EXISTS
                         (SELECT 1 FROM push_recipients r WHERE r.push_id = $push
                          AND r.member_id = o.member_id AND r.outbox_id = o.id AND r.state = 'queued'))")
[ "$unmatched" = 0 ] || problems+=("$unmatched messages and queued recipients do not match")
left=$(q "SELECT COUNT(*) FROM push_recipients WHERE push_id = $push AND state = 'pending'")
skipped=$(q "SELECT COUNT(*) FROM push_recipients WHERE push_id = $push
             AND state NOT IN ('pending', 'holdout', 'queued')")
if [ "$state" = "done" ]; then
  # Fresh members, nobody opting out: every turn not held out queues one.
  [ "$left" = 0 ] || problems+=("the push is done with $left members whose turn never came")
  [ "$skipped" = 0 ] || problems+=("$skipped members selected, not held out, never queued: $(
    q -separator ' ' "SELECT state, COUNT(*) FROM push_recipients WHERE push_id = $push
                      AND state NOT IN ('pending', 'holdout', 'queued') GROUP BY 1" | tr '\n' ' ')")
  open=$(q "SELECT COUNT(*) FROM outbox WHERE push_id = $push AND state IN ('queued', 'submitted')")
  [ "$open" = 0 ] || problems+=("$open messages of the push not final")
  [ "$delivered" = "$queued_rows" ] || problems+=("$delivered of $queued_rows messages delivered")
elif [ $short -eq 1 ] || [ $to_end -eq 1 ]; then
  problems+=("the push did not end in time: state $state, $left members' turns to come")
fi
# push_counts, kept by triggers, against the outbox.
drift=$(q "SELECT COUNT(*) FROM (SELECT state AS what, COUNT(*) AS n FROM outbox WHERE push_id = $push GROUP BY 1
           UNION ALL SELECT 'sent', COUNT(*) FROM outbox WHERE push_id = $push AND attempts > 0) o
           FULL JOIN (SELECT what, n FROM push_counts WHERE push_id = $push AND n <> 0) c USING (what)
           WHERE o.n IS NOT c.n")
[ "$drift" = 0 ] || problems+=("push_counts differs from the outbox in $drift states")
if [ $short -eq 0 ] && awk -v r="$peak_rss" 'BEGIN { exit !(r > 131072) }'; then
  echo "  note: peak RSS $(mib $((peak_rss * 1024))) MiB is over the goal of 128 MiB"
fi

# --- the results -------------------------------------------------------------
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }'; }
lg() { field "$1" "$out"; }
selected_growth=$((size_selected - size_before))
sending_growth=$((size_stopped - size_selected))
echo
echo "== Results ($(nproc) cores, $members members, $smscs SMSC(s) x $binds_each bind(s), SMPP window ${GIFTGATE_BENCH_WINDOW:-10} a bind)"
printf '  %-44s %s\n' \
  "members generated" "${gen_s}s (database $(mib "$size_before") MiB)" \
  "push create" "${create_s}s" \
  "selection (creation to every member selected)" "${selected_at}s: $targeted selected, $held_out held out ($(per "$targeted" "$selected_at") a second)" \
  "database growth by selection" "$(mib "$selected_growth") MiB, $(per "$selected_growth" "$targeted") bytes a member selected" \
  "sending, steady window" "${w_s}s: $w_sent sent/s, $w_delivered delivered/s (receipts)" \
  "sent, delivered (messages)" "$sent sent, $delivered delivered of $queued_rows queued; $((to_send - queued_rows)) members still to queue" \
  "database growth while sending" "$(mib "$sending_growth") MiB, $(per "$sending_growth" "$queued_rows") bytes a message queued" \
  "database after stop (db + WAL)" "$(mib "$size_stopped") MiB, $(per $((size_stopped - size_before)) "$targeted") bytes a member selected, all told (WAL at the end $(mib "$wal_end") MiB)" \
  "peak RSS of giftgated (VmHWM)" "$(mib $((peak_rss * 1024))) MiB (goal: under 128 MiB)" \
  "push state at the end" "$state after ${end_t}s from creation" \
  "generator: submits, receipts acked" "$(lg submits) submits, $(lg receipts_acked) receipts acknowledged, in doubt $(lg in_doubt)"
grep -E '^bind ' "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "  bind %s.%s: %s submits\n", v["smsc"], v["bind"], v["submits"] }'
awk -v r="$w_sent" 'BEGIN { exit !(r < 5000) }' && [ $short -eq 0 ] &&
  echo "  note: $w_sent sent/s is under the goal of 5,000 a second"
if [ $to_end -eq 0 ] && [ "$state" != "done" ]; then
  echo "  not sent to the end: $((to_send - sent)) messages not yet sent, about $(per $((to_send - sent)) "$w_sent")s more at the rate measured"
fi
echo "  samples: $samples (t state targeted held_out sent delivered open rss_kb); giftctl push show: $work/show.out"
if [ ${#problems[@]} -gt 0 ]; then
  printf 'bench-push.sh: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "bench-push.sh: ok"
