#!/usr/bin/env bash
# Throughput and latency of giftgated beside Kannel, with the same load
# generator (giftgate-loadgen, playing the SMSC) on the same machine in the
# same run. The generator sends the mix (60 % balance, 30 % redeem then
# confirm, 10 % a merchant verifying a code) over 100,000 members in five
# cities, answers every submit_sm and sends a receipt for each.
#
#   scripts/bench.sh                 # the full run (about 5 minutes)
#   scripts/bench.sh --quick         # short phases, no Kannel: a smoke run
#   scripts/bench.sh --no-kannel     # giftgated only
#   scripts/bench.sh --rates "1000"  # only these rates (0: as fast as answered)
#   scripts/bench.sh --profile       # giftgated under perf record; the top of
#                                    # perf report goes to build/bench/run/*.perf.txt
#   scripts/bench.sh --build-dir DIR # use the programs built there (no build)
#   scripts/bench.sh --db-size N     # also: N redemptions through the daemon,
#                                    # then the database's size (1000000: about
#                                    # half an hour; with --rates "" only that)
#   scripts/bench.sh --flood N       # also: p99 at 100 MO/s with and without N
#                                    # balance asks from one member at once (and
#                                    # with them, the limits off)
#
# Work files go to $GIFTGATE_BENCH_DIR (default build/bench), on the disk
# the daemon would use, never tmpfs, so that fsync costs what it costs.
# Every process the script starts it stops again, by process id.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
phase=20      # seconds measured at each rate
warmup=3
kannel=1
db_size=0
flood=0
profile=0
bin=
rates=(100 1000 0)
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --quick) phase=4; warmup=1; kannel=0 ;;
    --no-kannel) kannel=0 ;;
    --db-size) i=$((i + 1)); db_size=${!i} ;;
    --rates) i=$((i + 1)); read -r -a rates <<< "${!i}" ;;
    --profile) profile=1 ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    --flood) i=$((i + 1)); flood=${!i} ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/loadgen-campaign.sh
. "$root/scripts/loadgen-campaign.sh"
loadgen_programs
[ $kannel -eq 1 ] && "$root/scripts/kannel.sh" install

work=${GIFTGATE_BENCH_DIR:-$bin/bench}/run
rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() {
  [ -f "$work/kannel/bearerbox.pid" ] && "$root/scripts/kannel.sh" stop "$work/kannel" || true
  stop_pids "${pids[@]}"
}
trap cleanup EXIT

# --- the campaign, once; each run starts from a copy -------------------------

config() { echo "  window: ${GIFTGATE_BENCH_WINDOW:-10}" | loadgen_config "$1" "$2"; }
echo "== The campaign: 100,000 members in five cities, 20 merchants, stock for every redemption"
loadgen_campaign "$work" 100000

run_kannel() {
  local name=$1 rate=$2
  start_loadgen "$name" "$rate"
  "$root/scripts/kannel.sh" start "$port" "$work/kannel" > "$work/$name.kannel-start.log" 2>&1 ||
    { cat "$work/$name.kannel-start.log" >&2; exit 1; }
  wait_loadgen
  local bb sb cpu rss
  bb=$(cat "$work/kannel/bearerbox.pid")
  sb=$(cat "$work/kannel/smsbox.pid")
  cpu=$(awk -v a="$(cpu_of "$bb")" -v b="$(cpu_of "$sb")" 'BEGIN { printf "%.2f", a + b }')
  rss=$(( $(rss_of "$bb") + $(rss_of "$sb") ))
  "$root/scripts/kannel.sh" stop "$work/kannel"
  echo "process cpu_s=$cpu peak_rss_kb=$rss" >> "$work/$name.report"
}

row() {  # a line of the table for the phase report $1
  local f=$work/$1.report acked cpu
  acked=$(field mo_acked "$f")
  cpu=$(field cpu_s "$f")
  printf '  %-16s %9s %9s %8s %8s %8s %8s %9s %10s %6s\n' "$1" "$(field acked_per_s "$f")" \
    "$(field replied_per_s "$f")" \
    "$(field latency_p50_ms "$f")" "$(field latency_p99_ms "$f")" "$(field latency_max_ms "$f")" \
    "$(field peak_rss_kb "$f")" \
    "$(awk -v c="$cpu" -v n="$acked" 'BEGIN { printf "%.3f", (n > 0 ? c / n * 1000 : 0) }')" \
    "$(field host_steal_pct "$f")/$(field host_steal_worst_s_pct "$f")" \
    "$(field result "$f" 2>/dev/null || echo -)"
}

# --- the generator alone, against a trivial sink ------------------------------

echo "== giftgate-loadgen against a trivial sink (how fast the generator itself goes)"
start_loadgen sink 0
"$loadgen" sink --port "$port" > "$work/sink.sink" 2>&1 &
sink_pid=$!
pids+=("$sink_pid")
wait_loadgen
kill -TERM "$sink_pid" 2>/dev/null || true
wait "$sink_pid" 2>/dev/null || true

if [ "$flood" -gt 0 ]; then
  # The same rate and mix twice, the second with one member's flood at the
  # start of the measured time: what the flood costs everyone else.
  echo "== giftgated at 100 MO/s, then again with $flood balance asks from one member at once"
  run_giftgated flood-without 100
  run_giftgated flood-with 100 --flood "$flood"
  echo "== ... and with the per-number limits off, so every ask of the flood is answered"
  run_giftgated flood-unlimited 100 --flood "$flood"
fi

for rate in "${rates[@]}"; do
  name=giftgated-$rate
  [ "$rate" = 0 ] && name="giftgated-max"
  echo "== giftgated at ${rate/#0/max} MO/s ($phase s measured)"
  run_giftgated "$name" "$rate"
  if [ $kannel -eq 1 ]; then
    name=kannel-${name#giftgated-}
    echo "== Kannel at ${rate/#0/max} MO/s ($phase s measured)"
    run_kannel "$name" "$rate"
  fi
done

echo
echo "== Results ($(nproc) cores). acked/s: MOs acknowledged (so committed) per second;"
echo "   replied/s: replies received per second; latency: MO sent to its reply's first part;"
echo "   steal %: the machine's CPU time the host gave to others, over the phase/its worst second"
printf '  %-16s %9s %9s %8s %8s %8s %8s %9s %10s %6s\n' phase "acked/s" "replied/s" "p50 ms" \
  "p99 ms" "max ms" "RSS kB" "CPU s/1k" "steal %" check
row sink
if [ "$flood" -gt 0 ]; then
  row flood-without
  row flood-with
  row flood-unlimited
fi
for rate in "${rates[@]}"; do
  rate=${rate/#0/max}
  row "giftgated-$rate"
  [ $kannel -eq 1 ] && row "kannel-$rate"
done
sink_rate=$(field acked_per_s "$work/sink.report")
best=$(field replied_per_s "$work/giftgated-max.report" 2>/dev/null || true)
best_acked=$(field acked_per_s "$work/giftgated-max.report" 2>/dev/null || true)
[ -n "$best_acked" ] && awk -v s="$sink_rate" -v b="$best_acked" \
  'BEGIN { printf "  generator headroom: %.1f times giftgated'"'"'s best rate (needs 3)\n", s / b }'
if [ $kannel -eq 1 ] && [ -f "$work/kannel-max.report" ] && [ -f "$work/kannel-1000.report" ]; then
  awk -v g="$best" -v k="$(field replied_per_s "$work/kannel-max.report")" \
      -v gp="$(field latency_p99_ms "$work/giftgated-1000.report")" \
      -v kp="$(field latency_p99_ms "$work/kannel-1000.report")" \
    'BEGIN { printf "  giftgated / Kannel: sustained replies per second at the maximum %.2f, p99 latency at 1000 MO/s %.2f\n", g / k, gp / kp }'
fi
if [ "$flood" -gt 0 ]; then
  awk -v a="$(field latency_p99_ms "$work/flood-without.report")" \
      -v b="$(field latency_p99_ms "$work/flood-with.report")" \
      -v r="$(field flood_replies "$work/flood-with.report")" -v n="$flood" \
    'BEGIN { printf "  one member'"'"'s flood of %d: the others'"'"' p99 %.2f ms against %.2f ms without, %.2f times (target: at most 2); the flooder got %d replies\n", n, b, a, (a > 0 ? b / a : 0), r }'
  awk -v a="$(field latency_p99_ms "$work/flood-without.report")" \
      -v b="$(field latency_p99_ms "$work/flood-unlimited.report")" \
      -v r="$(field flood_replies "$work/flood-unlimited.report")" \
    'BEGIN { printf "  with the limits off (the fair order alone): p99 %.2f ms, %.2f times; the flooder got %d replies\n", b, (a > 0 ? b / a : 0), r }'
fi
# Latency on a VM follows the host's steal: tests/bench/RESULTS.md, "Throughput and latency
# beside Kannel", has the runs that show it.
for f in "$work"/giftgated-*.report "$work"/kannel-*.report; do
  [ -e "$f" ] || continue
  steal=$(field host_steal_pct "$f")
  if awk -v s="$steal" 'BEGIN { exit !(s + 0 > 5) }'; then
    echo "  note: the host took $steal % of the CPUs during $(basename "$f" .report): its latency tells more about the host"
  fi
done
for f in "$work"/giftgated-*.report; do
  [ -e "$f" ] || continue
  grep -q 'check result=ok' "$f" || { echo "bench.sh: the check failed in $f" >&2; grep '^check' "$f" >&2; exit 1; }
  grep -q 'host_steal_pct=' "$f" || { echo "bench.sh: no host steal figure in $f" >&2; exit 1; }
done

if [ "$db_size" -gt 0 ]; then
  echo "== $db_size redemptions through giftgated (redeem and confirm only)"
  phase=$((db_size * 2 / 400 + 10))  # a bound on the wait, not the length
  run_giftgated db-size 0 --mix 0,100,0 --redemptions "$db_size"
  grep -E '^(report|check)' "$work/db-size.report" | head -n 3
  ls -l "$work/campaign.db" | awk '{ printf "  database before (100,000 members, 20 merchants): %.1f MB\n", $5 / 1e6 }'
  ls -l "$work/db-size.db"* | awk '{ s += $5 } END { printf "  database after, with its -wal and -shm files: %.1f MB\n", s / 1e6 }'
fi
