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
# Replies first (issue 21: a push running flat out leaves the answers their
# speed), in one run of giftgated on 2 SMSCs x 2 binds (--binds) with an
# SMSC rate, every submit answered with a receipt, the loadgen's MO senders
# (members 0 to --senders - 1 of those generated, with points, merchants and
# stock for the whole mix) opted out of care messages, so that the push
# never reaches a number the loadgen awaits an answer from:
#   phase A: --mo-rate MO/s for --phase seconds, no push: p50, p99, max
#   phase B: the MOs paused, a push to `all` created without --rate (flat
#            out; selecting its audience under the load would take minutes);
#            once it sends, the same MO load again, and after a warm-up of
#            3 s (2 s with --short), for --phase seconds: p50, p99, max, and
#            the push's messages sent a second (the mean, the least and most
#            of any second, and the seconds it sent none)
# FAILS (exit 1) if p99 B > 2 x p99 A + --slack-ms (5 ms, 15 with --short; p99 B <= 2 x p99 A
# + slack passes), if any MO went unacknowledged or unanswered (the
# loadgen's mo_sent against mo_acked, and every awaited reply in by the end
# of its settle time), if the push sent nothing during phase B, or if it
# ran out of members before phase B ended (its state no longer sending: the
# measurement would not be of a push running; more --members then).
#   scripts/bench-push.sh --replies        # 200,000 members, 100,000 of them the
#                                          # senders, 1,000 MO/s, 20 s a phase
#   scripts/bench-push.sh --replies --short  # 80,000 members, 6 s a phase (--short
#                                          # alone runs this too, after its push)
#   --phase S (20), --mo-rate N (1000), --slack-ms MS (5; 15 with --short),
#   --senders N                            # half the members: no sender may send
#                                          # the same DH or Y twice within the
#                                          # daemon's mo_dedupe_seconds (120),
#                                          # taken for a redelivery, unanswered
#   --smsc-rate N                          # each SMSC's submits a second, shared
#                                          # by its binds (2000)
#   --smsc-window N                        # each bind's SMPP window (50)
#
# Work files go to $GIFTGATE_BENCH_DIR/push (default build/bench/push; with
# --replies, push-replies beside it); the database is made anew each run
# (tests/bench/gen-members.sh). Every process the script starts it stops
# again, by process id.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
members=10000000
binds=4
window=120
short=0
to_end=0
bin=
replies=0
members_given=
phase_s=
mo_rate=1000
senders=
slack_ms=
smsc_rate=2000
smsc_window=50
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --short) short=1; members=20000; to_end=1 ;;
    --members) i=$((i + 1)); members_given=${!i} ;;
    --replies) replies=1 ;;
    --phase) i=$((i + 1)); phase_s=${!i} ;;
    --mo-rate) i=$((i + 1)); mo_rate=${!i} ;;
    --senders) i=$((i + 1)); senders=${!i} ;;
    --slack-ms) i=$((i + 1)); slack_ms=${!i} ;;
    --smsc-rate) i=$((i + 1)); smsc_rate=${!i} ;;
    --smsc-window) i=$((i + 1)); smsc_window=${!i} ;;
    --binds) i=$((i + 1)); binds=${!i} ;;
    --window) i=$((i + 1)); window=${!i} ;;
    --all) to_end=1 ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    -h|--help) sed -n '2,68p' "$0"; exit 0 ;;
    *) echo "bench-push.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
# Six-second phases on a shared 2-core machine put phase A's p99 anywhere
# from 15 to 55 ms; the short form's slack keeps that noise from failing it,
# while a push that holds replies up (3 to 8 times) still does.
[ -n "$slack_ms" ] || slack_ms=$([ "${short:-0}" = 1 ] && echo 15 || echo 5)
if [ $replies -eq 1 ]; then
  members=200000
  [ $short -eq 1 ] && members=80000
  phase_s=${phase_s:-$([ $short -eq 1 ] && echo 6 || echo 20)}
  senders=${senders:-$((members / 2))}
fi
members=${members_given:-$members}
if [ "$binds" = 1 ]; then smscs=1; binds_each=1
elif [[ $binds =~ ^[0-9]+$ ]] && [ $((binds % 2)) -eq 0 ] && [ "$binds" -ge 2 ]; then
  smscs=2; binds_each=$((binds / 2))
else echo "bench-push.sh: --binds wants 1 or an even number" >&2; exit 2; fi

# shellcheck source=scripts/loadgen-campaign.sh
. "$root/scripts/loadgen-campaign.sh"
loadgen_programs
command -v sqlite3 > /dev/null ||
  { echo "bench-push.sh: needs the sqlite3 program (scripts/bootstrap.sh installs it)" >&2; exit 2; }

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

# --- replies first (--replies) ------------------------------------------------

# giftgated's configuration for --replies: each SMSC's rate and each bind's
# window as given, pushes flat out (rate 0), no quiet hours.
# The generator playing the SMSCs (its options after the first argument)
# and giftgated on the configuration function $1 writes for its ports;
# returns once every bind is up. Sets lg_pid, ctl_fd and daemon.
start_pair() {
  local write_config=$1
  shift
  mkfifo "$work/loadgen.ctl"
  "$loadgen" smsc --port 0 --smscs "$smscs" "$@" --control \
    < "$work/loadgen.ctl" > "$out" 2> "$work/loadgen.log" &
  lg_pid=$!
  pids+=("$lg_pid")
  exec {ctl_fd}> "$work/loadgen.ctl"
  for _ in $(seq 1 100); do grep -q '^ready ' "$out" && break; sleep 0.05; done
  grep -q '^ready ' "$out" || { echo "bench-push.sh: the generator did not start" >&2; exit 1; }
  "$write_config" "$(field ports "$out")" > "$work/giftgated.yaml"
  "$giftgated" --config "$work/giftgated.yaml" 2> "$work/giftgated.log" &
  daemon=$!
  pids+=("$daemon")
  for _ in $(seq 1 300); do [ "$(grep -c '^bound ' "$out")" -ge "$binds" ] && break; sleep 0.1; done
  [ "$(grep -c '^bound ' "$out")" -ge "$binds" ] ||
    { echo "bench-push.sh: giftgated did not bind $binds times in 30 s" >&2; exit 1; }
}

replies_config() {
  loadgen_config "$1" "$db" "$binds_each" "$smsc_rate" <<END
  window: $smsc_window
pushes:
  quiet_hours: "00:00-00:00"
  member_interval_hours: 72
  rate: 0
  batch: ${GIFTGATE_PUSH_BATCH:-500}
  max_queued: ${GIFTGATE_PUSH_MAX_QUEUED:-2000}
END
}


# One phase of --phase seconds: sets p50_X, p99_X, max_X, samples_X and
# mos_X (MOs acknowledged a second); with a push, its sent count each
# second goes to $work/sent.B ("t sent state waiting": waiting, its messages
# queued in the outbox and not yet handed to an SMSC; t from the phase's
# start).
replies_phase() {
  local x=$1 a b t0 t_end lat
  ask window > /dev/null
  a=$(ask stats)
  t0=$(now)
  if [ -n "${push:-}" ]; then
    local push_row="SELECT COALESCE((SELECT n FROM push_counts WHERE push_id = $push AND what = 'sent'), 0),
      state, COALESCE((SELECT n FROM push_counts WHERE push_id = $push AND what = 'queued'), 0)
      FROM pushes WHERE id = $push"
    : > "$work/sent.$x"
    local next=1
    echo "0 $(q -separator ' ' "$push_row")" >> "$work/sent.$x"
    while [ "$next" -le "$phase_s" ]; do
      sleep "$(awk -v t0="$t0" -v n="$next" -v now="$(now)" 'BEGIN { d = t0 + n - now; printf "%.3f", (d > 0 ? d : 0) }')"
      echo "$(since "$t0") $(q -separator ' ' "$push_row")" >> "$work/sent.$x"
      next=$((next + 1))
    done
  else
    sleep "$phase_s"
  fi
  lat=$(ask latency)
  b=$(ask stats)
  t_end=$(since "$t0")
  printf -v "p50_$x" '%s' "$(kv p50_ms "$lat")"
  printf -v "p99_$x" '%s' "$(kv p99_ms "$lat")"
  printf -v "max_$x" '%s' "$(kv max_ms "$lat")"
  printf -v "samples_$x" '%s' "$(kv samples "$lat")"
  printf -v "mos_$x" '%s' "$(awk -v a="$(kv mo_acked "$a")" -v b="$(kv mo_acked "$b")" -v t="$t_end" \
                               'BEGIN { printf "%.0f", (t > 0 ? (b - a) / t : 0) }')"
}

replies_bench() {
  if ! [[ $senders =~ ^[0-9]+$ ]] || [ "$senders" -lt 5 ] || [ $((senders % 7919)) -eq 0 ]; then
    echo "bench-push.sh: --senders wants 5 or more, not a multiple of 7919" >&2; exit 2
  fi
  [ "$senders" -lt "$members" ] ||
    { echo "bench-push.sh: --senders ($senders) must be fewer than --members ($members)" >&2; exit 2; }
  work=${GIFTGATE_BENCH_DIR:-$bin/bench}/push-replies
  rm -rf "$work"
  mkdir -p "$work"
  db=$work/replies.db
  out=$work/loadgen.out
  local name=replies-first warmup=3 t
  # Each phase's figures (replies_phase sets them).
  local p50_A='' p99_A='' max_A='' samples_A='' mos_A='' p50_B='' p99_B='' max_B='' samples_B='' mos_B=''
  [ $short -eq 1 ] && warmup=2

  echo "== $members members generated; the first $senders send the MOs, opted out of pushes"
  replies_config 2775 > "$work/setup.yaml"
  "$root/tests/bench/gen-members.sh" --giftctl "$giftctl" --config "$work/setup.yaml" --db "$db" \
    --members "$members"
  # The senders (ids 1 to N: gen-members numbers them in msisdn order, as
  # the generator's members) get points for every redemption of the mix
  # and opt out, so the push never reaches a number awaiting an answer.
  sqlite3 -bail "$db" > /dev/null <<SQL
BEGIN;
UPDATE members SET care_opt_out = 1 WHERE id <= $senders;
INSERT INTO ledger(member_id, delta, reason, channel, actor, reference, created_at)
SELECT id, 9000000, 'opening balance', 'import', 'bench-push', 'bench-push:' || msisdn, created_at
FROM members WHERE id <= $senders;
COMMIT;
SQL
  "$loadgen" csv --dir "$work" --members "$senders" --points 10000000
  "$giftctl" --config "$work/setup.yaml" --operator bench --quiet import merchants "$work/merchants.csv" > /dev/null
  for city in beijing shanghai shenzhen nanjing fuzhou; do
    "$giftctl" --config "$work/setup.yaml" --operator bench --quiet stock C "$city" 100000000 > /dev/null
  done
  local audience
  audience=$(q "SELECT COUNT(*) FROM members WHERE care_opt_out = 0")

  echo "== giftgated against $smscs SMSC(s) of $binds_each bind(s), rate $smsc_rate a SMSC, window $smsc_window a bind"
  start_pair replies_config --members "$senders" --rate "$mo_rate" --settle 30
  sleep "$warmup"  # the MOs under way before anything is measured

  echo "== phase A: $mo_rate MO/s for ${phase_s}s, no push"
  push=
  replies_phase A
  echo "  p50 ${p50_A} ms, p99 ${p99_A} ms, max ${max_A} ms over $samples_A replies"

  echo "== phase B: a push to all ($audience members not opted out), flat out; then $mo_rate MO/s for ${phase_s}s"
  # The MOs paused while the push selects its audience, which it does only
  # between the answers' batches: under the load that would take minutes.
  ask pause > /dev/null
  "$giftctl" --config "$work/giftgated.yaml" --operator bench push create "$name" \
    --template push_tips --audience all > "$work/create.out" 2>&1 ||
    { cat "$work/create.out" >&2; echo "bench-push.sh: giftctl push create failed" >&2; exit 1; }
  push=$(q "SELECT id FROM pushes WHERE name = '$name'")
  [ -n "$push" ] || { echo "bench-push.sh: no push $name in the database" >&2; exit 1; }
  # Until it sends (bounded: a minute and 20 s a million members), then the
  # MOs again, the warm-up before B is measured.
  local limit=$(( (60 + members / 50000) * 10 ))
  t=0
  until [ "$(q "SELECT state = 'sending' AND COALESCE((SELECT n FROM push_counts WHERE push_id = $push
                 AND what = 'sent'), 0) > 0 FROM pushes WHERE id = $push")" = 1 ]; do
    kill -0 "$daemon" 2>/dev/null || { echo "bench-push.sh: giftgated exited (see $work/giftgated.log)" >&2; exit 1; }
    [ $t -ge $limit ] && { echo "bench-push.sh: the push did not start sending in $((limit / 10))s:" \
                             "$(q "SELECT state, targeted FROM pushes WHERE id = $push")" >&2; exit 1; }
    sleep 0.1; t=$((t + 1))
  done
  echo "  sending after $(awk -v t=$t 'BEGIN { printf "%.1f", t / 10 }')s; the MOs resumed"
  ask resume > /dev/null
  sleep "$warmup"
  replies_phase B
  kill -0 "$daemon" 2>/dev/null || { echo "bench-push.sh: giftgated exited during phase B (see $work/giftgated.log)" >&2; exit 1; }

  # The push's sending over B: the mean, the least and most of one second,
  # the seconds it sent nothing, and its state at B's end.
  local sent_b sent_rate least most idle state_b waiting
  read -r sent_b sent_rate least most idle <<< "$(awk '
    NR == 1 { t0 = $1; s0 = $2 }
    NR > 1 { r = ($2 - ls) / ($1 - lt); if (NR == 2 || r < lo) lo = r; if (NR == 2 || r > hi) hi = r
             if ($2 == ls) idle++ }
    { lt = $1; ls = $2 }
    END { printf "%d %.0f %.0f %.0f %d", ls - s0, (lt > t0 ? (ls - s0) / (lt - t0) : 0), lo, hi, idle }' "$work/sent.B")"
  state_b=$(tail -n 1 "$work/sent.B" | cut -d' ' -f3)
  waiting=$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $4 }' "$work/sent.B")

  # The rest of the push expired, so that the generator settles on the
  # answers alone; then every MO answered, or the settle time (30 s) says not.
  "$giftctl" --config "$work/giftgated.yaml" --operator bench push cancel "$name" > "$work/cancel.out" 2>&1 ||
    echo "  note: giftctl push cancel failed: $(cat "$work/cancel.out")"
  printf 'finish 30\n' >&"$ctl_fd"
  exec {ctl_fd}>&-
  ctl_fd=
  t=0
  while kill -0 "$lg_pid" 2>/dev/null && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
  kill -0 "$lg_pid" 2>/dev/null && { echo "bench-push.sh: the generator did not finish" >&2; exit 1; }
  kill -TERM "$daemon" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done

  local problems=() ratio mo_sent mo_acked
  ratio=$(awk -v a="$p99_A" -v b="$p99_B" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
  awk -v a="$p99_A" -v b="$p99_B" -v s="$slack_ms" 'BEGIN { exit !(b > 2 * a + s) }' &&
    problems+=("p99 with the push, $p99_B ms, is over 2 x $p99_A ms + $slack_ms ms")
  [ "${samples_A:-0}" -gt 0 ] && [ "${samples_B:-0}" -gt 0 ] ||
    problems+=("a phase had no replies (A $samples_A, B $samples_B)")
  mo_sent=$(field mo_sent "$out")
  mo_acked=$(field mo_acked "$out")
  [ -n "$mo_sent" ] && [ "$mo_sent" = "$mo_acked" ] ||
    problems+=("${mo_sent:-?} MOs sent, ${mo_acked:-?} acknowledged")
  grep -q '^settle timed_out' "$out" &&
    problems+=("not every MO answered in the settle time: $(grep '^settle timed_out' "$out")")
  [ "$sent_b" -gt 0 ] || problems+=("the push sent nothing during phase B")
  [ "$state_b" = sending ] ||
    problems+=("the push was $state_b, no longer sending, at phase B's end: more --members")

  echo
  echo "== Results, replies first ($(nproc) cores, $members members, $senders senders opted out," \
       "$smscs SMSC(s) x $binds_each bind(s), SMSC rate $smsc_rate, window $smsc_window)"
  printf '  %-22s %8s %8s %8s %8s %9s %13s\n' phase "MOs/s" replies "p50 ms" "p99 ms" "max ms" "push sent/s"
  printf '  %-22s %8s %8s %8s %8s %9s %13s\n' "A: no push" "$mos_A" "$samples_A" "$p50_A" "$p99_A" "$max_A" "-"
  printf '  %-22s %8s %8s %8s %8s %9s %13s\n' "B: push flat out" "$mos_B" "$samples_B" "$p50_B" "$p99_B" "$max_B" "$sent_rate"
  echo "  p99 B/A: $ratio (passes while p99 B <= 2 x p99 A + $slack_ms ms = $(awk -v a="$p99_A" -v s="$slack_ms" 'BEGIN { printf "%.2f", 2 * a + s }') ms)"
  echo "  push during B: $sent_b messages sent in ${phase_s}s; any one second: $least to $most sent/s" \
       "($idle of $phase_s seconds with none); state at B's end: $state_b"
  echo "  its messages waiting in the outbox, each second of B: $waiting"
  echo "  largest MO->reply: $max_A ms without the push, $max_B ms with it"
  echo "  generator: $mo_sent MOs sent, $mo_acked acknowledged; push each second: $work/sent.B"
  if [ ${#problems[@]} -gt 0 ]; then
    printf 'bench-push.sh: replies: %s\n' "${problems[@]}" >&2
    exit 1
  fi
  echo "bench-push.sh: replies ok"
}

if [ $replies -eq 1 ]; then
  replies_bench
  exit 0
fi

work=${GIFTGATE_BENCH_DIR:-$bin/bench}/push
rm -rf "$work"
mkdir -p "$work"
db=$work/push.db
out=$work/loadgen.out

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
start_pair config --members 1000 --rate 0.001

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
# The smoke form covers replies first too, in its own short run.
if [ $short -eq 1 ]; then
  echo
  "$0" --replies --short --build-dir "$bin"
fi
