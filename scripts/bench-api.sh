#!/usr/bin/env bash
# The HTTP API beside SMS (issue 22): giftgated against giftgate-loadgen
# playing the SMSC (one SMSC of two binds, the MO mix of scripts/bench.sh)
# and giftgate-apiload playing merchant terminals that verify codes over
# the API (POST /v1/verifications, keep-alive, plain HTTP on 127.0.0.1,
# open loop: latency from each request's due time). One run of giftgated:
#   (a) MOs at --mo-rate (1,000/s) alone for --phase seconds: p50, p99 and
#       max of MO -> reply, as the loadgen measures them
#   (b) the same MOs plus verifications at --api-rate (1,000/s) for
#       --phase seconds: both p99s, the same window
#   (c) the MOs paused, verifications alone, stepped up from --api-rate
#       (x1, x1.5, x2, x3, x4, x6, x8, x12; at most 8 steps of --step
#       seconds) until p99 passes 50 ms, fewer than 95 % of the rate are
#       answered, or an error appears: the most sustained is the last step
#       that passed
# Each verification sends a code once: vouchers inserted for the run, one
# per request scheduled, so every one is a real use (and the member's SMS
# note is queued, as by SMS). Codes that do not exist would count toward
# the merchant's lock-out: the daemon runs with verification.max_failures
# and daily_max_failures 0 (off), and api.key_rate far above the load.
#
#   scripts/bench-api.sh                  # the full run (about 4 minutes)
#   scripts/bench-api.sh --short          # the smoke form the tests run: 4 s
#                                         # phases, steps of 2 s at 1x and 2x
#   scripts/bench-api.sh --phase S        # seconds measured in (a) and (b) (20)
#   scripts/bench-api.sh --step S         # seconds measured per step of (c) (10)
#   scripts/bench-api.sh --mo-rate N      # MOs a second in (a) and (b) (1000)
#   scripts/bench-api.sh --api-rate N     # verifications a second in (b), and
#                                         # (c)'s first step (1000)
#   scripts/bench-api.sh --connections C  # the terminals' connections (32)
#   scripts/bench-api.sh --build-dir DIR  # use the programs built there
#
# FAILS (exit 1), in either form, on errors only, never on speed: a code
# that exists answered other than 2xx, a request unanswered (or its
# connection lost) in (b) or any step of (c), an MO unacknowledged, or an
# awaited reply missing by the end of the generator's settle time.
# Work files go to $GIFTGATE_BENCH_DIR/api (default build/bench/api). Every
# process the script starts it stops again, by process id.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
phase=20
step_s=10
warmup=3

bin=
mo_rate=1000
api_rate=1000
connections=32
members=100000
steps=(100 150 200 300 400 600 800 1200)  # percent of --api-rate
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --short) phase=4; step_s=2; warmup=2; members=30000; steps=(100 200) ;;
    --phase) i=$((i + 1)); phase=${!i} ;;
    --step) i=$((i + 1)); step_s=${!i} ;;
    --mo-rate) i=$((i + 1)); mo_rate=${!i} ;;
    --api-rate) i=$((i + 1)); api_rate=${!i} ;;
    --connections) i=$((i + 1)); connections=${!i} ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
    *) echo "bench-api.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
for n in "$phase" "$step_s" "$mo_rate" "$api_rate" "$connections"; do
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] ||
    { echo "bench-api.sh: --phase, --step, --mo-rate, --api-rate and --connections want whole numbers of 1 or more" >&2; exit 2; }
done

# shellcheck source=scripts/loadgen-campaign.sh
. "$root/scripts/loadgen-campaign.sh"
if [ -z "$bin" ]; then
  GIFTGATE_BUILD_TARGETS="giftgated giftctl giftgate-loadgen giftgate-apiload" \
    "$root/scripts/bootstrap.sh" >&2
  bin=$root/build
fi
loadgen_programs
apiload=$bin/tests/giftgate-apiload
[ -x "$apiload" ] || { echo "bench-api.sh: no $apiload (build the target giftgate-apiload)" >&2; exit 2; }
for p in sqlite3 curl; do
  command -v $p > /dev/null ||
    { echo "bench-api.sh: needs the $p program (scripts/bootstrap.sh installs it)" >&2; exit 2; }
done

work=${GIFTGATE_BENCH_DIR:-$bin/bench}/api
rm -rf "$work"
mkdir -p "$work"
db=$work/api.db
out=$work/loadgen.out
pids=()
ctl_fd=
cleanup() {
  [ -n "$ctl_fd" ] && exec {ctl_fd}>&- 2>/dev/null
  stop_pids "${pids[@]}"
}
trap cleanup EXIT

# A port nothing listens on now, for the API (giftgated is told it).
free_port() {
  local p t
  for t in $(seq 1 50); do
    p=$((20000 + (RANDOM * 7 + t) % 30000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then echo "$p"; return; fi
  done
  echo "bench-api.sh: no free port found" >&2
  exit 1
}
api_port=$(free_port)

# giftgated's configuration: one SMSC of two binds, no rate limit, window
# 50; the API on loopback; the guards that would lock the terminals' key
# out, and the key's rate, out of the way of the load.
config() {
  loadgen_config "$1" "$db" 2 0 <<END
  window: 50
verification:
  max_failures: 0
  daily_max_failures: 0
api:
  listen: 127.0.0.1
  port: $api_port
  key_rate: 1000000
  key_burst: 1000000
END
}

# giftgated's CPU since $1 seconds at time $2, as a percentage of one core
# (all its threads: 100 is one core's worth).
cpu_share() {
  awk -v c0="$1" -v c1="$(cpu_of "$daemon")" -v t0="$2" -v t1="$(date +%s.%N)" \
    'BEGIN { printf "%.0f", (t1 > t0 ? 100 * (c1 - c0) / (t1 - t0) : 0) }'
}
# The machine's CPU ticks so far, "busy idle", all cores (/proc/stat), and
# the busy share between two of them: what the other users of a shared
# machine took shows here, and not in giftgated's own share.
host_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
host_busy() {  # $1 the ticks at the start
  awk -v a="$1" -v b="$(host_ticks)" 'BEGIN { split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1]; idle = y[2] - x[2]; printf "%.0f", (busy + idle > 0 ? 100 * busy / (busy + idle) : 0) }'
}
alive() {
  kill -0 "$daemon" 2> /dev/null ||
    { echo "bench-api.sh: giftgated exited $1 (see $work/giftgated.log)" >&2; exit 1; }
}

# --- the campaign ------------------------------------------------------------
# The generator's members, merchants and stock (as scripts/bench-binds.sh),
# one merchant more for the terminals (beijing, a number no MO comes from),
# and a voucher for every verification the run schedules: tier C, beijing,
# owned by the beijing members in turn. The vouchers are inserted directly
# (as tests/bench/gen-members.sh inserts members): a verification reads the
# voucher, not how it was paid for, and issuing hundreds of thousands one by
# one would take longer than the run.
echo "== The campaign: $members members in five cities, 21 merchants, stock for every redemption"
config 2775 > "$work/setup.yaml"
"$loadgen" csv --dir "$work" --members "$members" --points 10000000
echo "api-bench,Bench terminals,beijing,ktv,middle,8613900099999,5 hours,2 hours,1 hour" >> "$work/merchants.csv"
for kind in members merchants; do
  "$giftctl" --config "$work/setup.yaml" --operator bench --quiet import "$kind" "$work/$kind.csv" > /dev/null
done
for city in beijing shanghai shenzhen nanjing fuzhou; do
  "$giftctl" --config "$work/setup.yaml" --operator bench --quiet stock C "$city" 100000000 > /dev/null
done

# The codes: (b)'s, then each step's, each run with a second of warm-up.
codes_for() { echo $(( $1 * ($2 + 1) )); }  # rate, seconds measured
next_code=0
make_codes() {  # $1 file, $2 count
  "$apiload" codes --letters BQ --from "$next_code" --count "$2" > "$1"
  next_code=$((next_code + $2))
}
make_codes "$work/codes.b" "$(codes_for "$api_rate" "$phase")"
for k in "${steps[@]}"; do make_codes "$work/codes.c$k" "$(codes_for $((api_rate * k / 100)) "$step_s")"; done
[ "$next_code" -le 10000000 ] || { echo "bench-api.sh: more than 10,000,000 codes wanted" >&2; exit 2; }
cat "$work"/codes.b "$work"/codes.c* > "$work/codes.all"
t=$(date +%s.%N)
sqlite3 -bail "$db" > /dev/null <<SQL
PRAGMA busy_timeout = 10000;
CREATE TEMP TABLE codes(code TEXT);
.mode csv
.import '$work/codes.all' codes
BEGIN;
WITH b AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM members WHERE city = 'beijing'),
n AS (SELECT COUNT(*) AS n FROM b)
INSERT INTO vouchers(code, member_id, tier, city, price, face_value, state, channel, issued_at, expires_at)
SELECT c.code, b.id, 'C', 'beijing', 1000, 20, 'issued', 'sms',
       strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+30 days')
FROM codes c JOIN b ON b.k = (c.rowid - 1) % (SELECT n FROM n);
COMMIT;
SQL
vouchers=$(sqlite3 "$db" "SELECT COUNT(*) FROM vouchers WHERE code LIKE 'BQ%'")
[ "$vouchers" = "$next_code" ] ||
  { echo "bench-api.sh: $vouchers vouchers inserted, not $next_code" >&2; exit 1; }
echo "  $vouchers vouchers inserted in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"

# The terminals' key: shown once by giftctl, kept only as a hash.
"$giftctl" --config "$work/setup.yaml" --operator bench api-key create bench-terminals \
  --role merchant --merchant api-bench > "$work/key.out" 2>&1 ||
  { cat "$work/key.out" >&2; echo "bench-api.sh: giftctl api-key create failed" >&2; exit 1; }
key=$(grep -oE 'ggk_[0-9]+_[A-Za-z0-9_-]+' "$work/key.out" | head -n 1 || true)
[ -n "$key" ] || { echo "bench-api.sh: no key in the output of giftctl api-key create" >&2; exit 1; }

# --- giftgated, the SMSC and the terminals -------------------------------------
sync  # the campaign just written goes to disk before anything is measured
echo "== giftgated against one SMSC of two binds; the API on 127.0.0.1:$api_port; load $(cut -d' ' -f1-3 /proc/loadavg) before"
mkfifo "$work/loadgen.ctl"
"$loadgen" smsc --port 0 --members "$members" --rate "$mo_rate" --settle 30 --control \
  < "$work/loadgen.ctl" > "$out" 2> "$work/loadgen.log" &
lg_pid=$!
pids+=("$lg_pid")
exec {ctl_fd}> "$work/loadgen.ctl"
for _ in $(seq 1 100); do grep -q '^ready ' "$out" && break; sleep 0.05; done
grep -q '^ready ' "$out" || { echo "bench-api.sh: the generator did not start" >&2; exit 1; }
config "$(field ports "$out")" > "$work/giftgated.yaml"
"$giftgated" --config "$work/giftgated.yaml" 2> "$work/giftgated.log" &
daemon=$!
pids+=("$daemon")
for _ in $(seq 1 300); do [ "$(grep -c '^bound ' "$out")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c '^bound ' "$out")" -ge 2 ] || { echo "bench-api.sh: giftgated did not bind twice in 30 s" >&2; exit 1; }
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/v1/health" || true)" = 200 ] && break
  alive "before its API answered"
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/v1/health" || true)" = 200 ] ||
  { echo "bench-api.sh: the API did not answer /v1/health in 10 s" >&2; exit 1; }
sleep "$warmup"  # the MOs under way before anything is measured

# One run of the terminals: $1 name, $2 rate, $3 seconds measured; its
# report line goes to $work/api.$1.
terminals() {
  "$apiload" run --port "$api_port" --key "$key" --codes "$work/codes.$1" --rate "$2" \
    --seconds "$3" --warmup 1 --connections "$connections" --settle 30 \
    > "$work/api.$1" 2> "$work/api.$1.log"
}
problems=()
api_errors() {  # $1 name: prints what went wrong in that run, if anything
  local f=$work/api.$1 r
  r=$(grep '^report ' "$f" || true)
  [ -n "$r" ] || { echo "$1: giftgate-apiload reported nothing ($(tail -n 1 "$work/api.$1.log"))"; return; }
  [ "$(kv existing_non2xx "$r")" = 0 ] ||
    echo "$1: $(kv existing_non2xx "$r") verifications of codes that exist answered other than 2xx"
  [ "$(kv unanswered "$r")" = 0 ] || echo "$1: $(kv unanswered "$r") requests unanswered"
  [ "$(kv errors "$r")" = 0 ] || echo "$1: $(kv errors "$r") requests lost with their connection"
  [ "$(kv missing_sent "$r")" = 0 ] || echo "$1: $(kv missing_sent "$r") codes sent that do not exist (too few made)"
}

echo "== (a) $mo_rate MO/s alone for ${phase}s"
ask window > /dev/null
a0=$(ask stats)
ta=$(date +%s.%N)
cpu0=$(cpu_of "$daemon")
host0=$(host_ticks)
sleep "$phase"
lat=$(ask latency)
a1=$(ask stats)
alive "during (a)"
cpu_a=$(cpu_share "$cpu0" "$ta")
host_a=$(host_busy "$host0")
p50_a=$(kv p50_ms "$lat"); p99_a=$(kv p99_ms "$lat"); max_a=$(kv max_ms "$lat"); n_a=$(kv samples "$lat")
mos_a=$(awk -v a="$(kv mo_acked "$a0")" -v b="$(kv mo_acked "$a1")" -v t0="$ta" -v t1="$(date +%s.%N)" \
          'BEGIN { printf "%.0f", (b - a) / (t1 - t0) }')
echo "  MO->reply p50 $p50_a ms, p99 $p99_a ms, max $max_a ms over $n_a replies"

echo "== (b) $mo_rate MO/s and $api_rate verifications/s for ${phase}s"
terminals b "$api_rate" "$phase" &
ap=$!
pids+=("$ap")
sleep 1  # the terminals' warm-up: the MOs' window opens with their measured time
ask window > /dev/null
b0=$(ask stats)
tb=$(date +%s.%N)
cpu0=$(cpu_of "$daemon")
host0=$(host_ticks)
wait "$ap" || true
lat=$(ask latency)
b1=$(ask stats)
alive "during (b)"
cpu_b=$(cpu_share "$cpu0" "$tb")
host_b=$(host_busy "$host0")
p50_b=$(kv p50_ms "$lat"); p99_b=$(kv p99_ms "$lat"); max_b=$(kv max_ms "$lat"); n_b=$(kv samples "$lat")
mos_b=$(awk -v a="$(kv mo_acked "$b0")" -v b="$(kv mo_acked "$b1")" -v t0="$tb" -v t1="$(date +%s.%N)" \
          'BEGIN { printf "%.0f", (b - a) / (t1 - t0) }')
rb=$(grep '^report ' "$work/api.b" || true)
echo "  MO->reply p50 $p50_b ms, p99 $p99_b ms, max $max_b ms over $n_b replies"
echo "  verifications: $(kv achieved_per_s "$rb")/s, p50 $(kv p50_ms "$rb") ms, p99 $(kv p99_ms "$rb") ms, max $(kv max_ms "$rb") ms"
mapfile -t -O "${#problems[@]}" problems < <(api_errors b)

echo "== (c) the MOs paused; verifications alone, stepped up from $api_rate/s, ${step_s}s a step"
ask pause > /dev/null
sleep 2  # the MOs under way answered before the first step
best=
stopped_by=
for k in "${steps[@]}"; do
  rate=$((api_rate * k / 100))
  t0=$(date +%s.%N)
  cpu0=$(cpu_of "$daemon")
  host0=$(host_ticks)
  terminals "c$k" "$rate" "$step_s" || true
  alive "during (c) at $rate/s"
  printf -v "cpu_c$k" '%s' "$(cpu_share "$cpu0" "$t0")"
  printf -v "host_c$k" '%s' "$(host_busy "$host0")"
  r=$(grep '^report ' "$work/api.c$k" || true)
  mapfile -t errs < <(api_errors "c$k")
  echo "  $rate/s: $(kv achieved_per_s "$r")/s answered, p50 $(kv p50_ms "$r") ms, p99 $(kv p99_ms "$r") ms, max $(kv max_ms "$r") ms${errs[*]:+; ${errs[*]}}"
  stepped=$k
  if [ ${#errs[@]} -gt 0 ]; then
    problems+=("${errs[@]}")
    stopped_by="errors at $rate/s"
    break
  fi
  if awk -v p="$(kv p99_ms "$r")" 'BEGIN { exit !(p > 50) }'; then
    stopped_by="p99 over 50 ms at $rate/s"
    break
  fi
  if awk -v a="$(kv achieved_per_s "$r")" -v r="$rate" 'BEGIN { exit !(a < 0.95 * r) }'; then
    stopped_by="under 95 % of $rate/s answered"
    break
  fi
  best=$rate
done
[ -n "$stopped_by" ] || stopped_by="the last step passed: the most tried"

# The MOs again, so that the generator settles on them: every MO
# acknowledged, every awaited reply in within its settle time (30 s).
ask resume > /dev/null
printf 'finish 30\n' >&"$ctl_fd"
exec {ctl_fd}>&-
ctl_fd=
t=0
while kill -0 "$lg_pid" 2> /dev/null && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
kill -0 "$lg_pid" 2> /dev/null && { echo "bench-api.sh: the generator did not finish" >&2; exit 1; }
kill -TERM "$daemon" 2> /dev/null || true
for _ in $(seq 1 300); do kill -0 "$daemon" 2> /dev/null || break; sleep 0.1; done
mo_sent=$(field mo_sent "$out")
mo_acked=$(field mo_acked "$out")
[ -n "$mo_sent" ] && [ "$mo_sent" = "$mo_acked" ] ||
  problems+=("${mo_sent:-?} MOs sent, ${mo_acked:-?} acknowledged")
grep -q '^settle timed_out' "$out" &&
  problems+=("not every MO answered in the settle time: $(grep '^settle timed_out' "$out")")
[ "${n_a:-0}" -gt 0 ] && [ "${n_b:-0}" -gt 0 ] || problems+=("a phase had no MO replies (a $n_a, b $n_b)")
used=$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM vouchers WHERE used_by = 'api-bench' AND state = 'used'")

echo
echo "== Results ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) after; $members members;" \
     "one SMSC of two binds; $connections keep-alive connections for the terminals)"
echo "   MO: MO sent to its reply, by the generator; API: the verification's due time to its answer;"
echo "   gg CPU: giftgated's CPU time over the phase, all threads (100 % = one core); host: the"
echo "   machine's busy share, all cores, whoever used them (the generators, giftgated, anyone else)"
row='  %-34s %7s %8s %8s %8s %9s %8s %8s %8s %7s %6s\n'
# shellcheck disable=SC2059  # the format is the table's, above
printf "$row" phase "MOs/s" "MO p50" "MO p99" "MO max" "API req/s" "API p50" "API p99" "API max" \
  "gg CPU" host
# shellcheck disable=SC2059
printf "$row" "(a) MOs alone" "$mos_a" "$p50_a" "$p99_a" "$max_a" - - - - "$cpu_a %" "$host_a %"
# shellcheck disable=SC2059
printf "$row" "(b) MOs + $api_rate verifications/s" "$mos_b" "$p50_b" "$p99_b" "$max_b" \
  "$(kv achieved_per_s "$rb")" "$(kv p50_ms "$rb")" "$(kv p99_ms "$rb")" "$(kv max_ms "$rb")" "$cpu_b %" \
  "$host_b %"
for k in "${steps[@]}"; do
  [ -f "$work/api.c$k" ] || continue
  r=$(grep '^report ' "$work/api.c$k" || true)
  cpu_var=cpu_c$k host_var=host_c$k
  # shellcheck disable=SC2059
  printf "$row" "(c) verifications at $((api_rate * k / 100))/s" - - - - \
    "$(kv achieved_per_s "$r")" "$(kv p50_ms "$r")" "$(kv p99_ms "$r")" "$(kv max_ms "$r")" "${!cpu_var} %" \
    "${!host_var} %"
  [ "$k" = "$stepped" ] && break
done
echo "  MO p99 with the API load over without: $(awk -v a="$p99_a" -v b="$p99_b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
echo "  the most sustained alone (p99 under 50 ms, 95 % answered, no errors): ${best:-none}${best:+ req/s}; stopped: $stopped_by"
echo "  answers in (b): $(grep -oE 'status_[0-9]+=[0-9]+' <<< "$rb" | tr '\n' ' ')"
echo "  vouchers used over the API: $used; generator: $mo_sent MOs sent, $mo_acked acknowledged"
echo "  files: $work (api.b, api.cN: giftgate-apiload's reports; loadgen.out; giftgated.log)"
if [ ${#problems[@]} -gt 0 ]; then
  printf 'bench-api.sh: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "bench-api.sh: ok"
