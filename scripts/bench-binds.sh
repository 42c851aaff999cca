#!/usr/bin/env bash
# Several binds and several SMSCs (issue 20): giftgated against
# giftgate-loadgen playing two SMSCs, with the mix and members of
# scripts/bench.sh, in one run:
#   (c) p99 at 1,000 MO/s with one bind, then with four (two SMSCs of two
#       binds), no rate limit; first, because its submits per MO set (a)'s rate
#   (a) four binds at 500 submits a second each: two SMSCs of two binds,
#       each SMSC's rate 1,000 shared by its binds, MOs at the rate that
#       makes the daemon submit about 2,000 a second: submits per second per
#       bind, the evenness of the spread (least / most), p99
#   (b) the most sustained over 1, 2, 4 and 6 binds without a rate limit
#       (one bind: one SMSC; more: two SMSCs of half the binds each), and
#       the binds past which it stops growing on this machine
#
#   scripts/bench-binds.sh                 # the full run (about 5 minutes)
#   scripts/bench-binds.sh --short         # the smoke form the tests run: four
#                                          # binds at 200 MO/s for 4 s; fails if an
#                                          # MO is lost or a bind took no submits
#   scripts/bench-binds.sh --phase S       # seconds measured per phase (20)
#   scripts/bench-binds.sh --build-dir DIR # use the programs built there
#
# Work files go to $GIFTGATE_BENCH_DIR/binds (default build/bench/binds).
# Every process the script starts it stops again, by process id.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
phase=20
warmup=3
short=0
bin=
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --short) short=1; phase=4; warmup=1 ;;
    --phase) i=$((i + 1)); phase=${!i} ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "bench-binds.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/loadgen-campaign.sh
. "$root/scripts/loadgen-campaign.sh"
loadgen_programs

work=${GIFTGATE_BENCH_DIR:-$bin/bench}/binds
rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() { stop_pids "${pids[@]}"; }
trap cleanup EXIT

# Each phase's SMSCs: set by binds_phase before run_giftgated calls config.
binds_each=1
smsc_rate=0
config() {
  echo "  window: ${GIFTGATE_BENCH_WINDOW:-10}" | loadgen_config "$1" "$2" "$binds_each" "$smsc_rate"
}

# One phase: $1 name, $2 SMSCs, $3 binds each, $4 each SMSC's rate (0:
# none), $5 MOs per second (0: as fast as answered). As fast as answered,
# the generator keeps the same 200 MOs unanswered in all however many SMSCs
# share them, so that only the binds change.
binds_phase() {
  local name=$1 smscs=$2 mo_rate=$5 more=()
  binds_each=$3
  smsc_rate=$4
  [ "$mo_rate" = 0 ] && more=(--max-unacked $((200 / smscs)))
  echo "== $name: $smscs SMSC(s) of $binds_each bind(s), SMSC rate ${smsc_rate/#0/none}, ${mo_rate/#0/max} MO/s ($phase s measured)"
  run_giftgated "$name" "$mo_rate" --smscs "$smscs" "${more[@]}"
}

# The submitting binds' lines of a report (a transmitter + receiver pair
# submits on the transmitter): "SMSC.BIND submits_per_s submits".
bind_rates() {
  awk '/^bind / && !/ kind=receiver / {
         for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["smsc"] "." v["bind"], v["submits_per_s"], v["submits"] }' "$work/$1.report"
}

# "least most least/most" of the submits per second over the binds.
evenness() {
  bind_rates "$1" | awk 'NR == 1 || $2 < lo { lo = $2 } NR == 1 || $2 > hi { hi = $2 }
    END { printf "%.1f %.1f %.2f", lo, hi, (hi > 0 ? lo / hi : 0) }'
}

# Whatever the phase measured, it must have lost nothing and given every
# bind submits: prints the complaints, if any.
verdict() {  # $1 phase, $2 binds expected
  local f=$work/$1.report n
  grep -q '^check result=ok' "$f" || echo "$1: the database check failed"
  [ "$(field mo_sent "$f")" = "$(field mo_acked "$f")" ] ||
    echo "$1: $(field mo_sent "$f") MOs sent, $(field mo_acked "$f") acknowledged"
  grep -q '^settle timed_out' "$f" && echo "$1: not every MO answered in the settle time"
  n=$(bind_rates "$1" | awk '$3 > 0' | wc -l)
  [ "$n" -ge "$2" ] || echo "$1: $n of $2 binds took submits"
  bind_rates "$1" | awk -v p="$1" '$3 == 0 { print p ": bind " $1 " took no submits" }'
}

echo "== The campaign: 100,000 members in five cities, 20 merchants, stock for every redemption"
loadgen_campaign "$work" 100000

problems=()
if [ $short -eq 1 ]; then
  binds_phase smoke 2 2 1000 200
  mapfile -t problems < <(verdict smoke 4)
  bind_rates smoke | awk '{ printf "  bind %s: %s submits/s\n", $1, $2 }'
  echo "  evenness (least/most submits/s): $(evenness smoke | cut -d' ' -f3)"
  if [ ${#problems[@]} -gt 0 ]; then
    printf 'bench-binds.sh: %s\n' "${problems[@]}" >&2
    grep -E '^(smsc|bind|report|check|settle)' "$work/smoke.report" >&2 || true
    exit 1
  fi
  echo "bench-binds.sh: smoke ok"
  exit 0
fi

# (c), then (a) at the rate (c)'s one bind says gives 2,000 submits a second.
binds_phase p99-1bind 1 1 0 1000
binds_phase p99-4binds 2 2 0 1000
per_mo=$(awk -v s="$(field submitted_per_s "$work/p99-1bind.report")" \
             -v m="$(field acked_per_s "$work/p99-1bind.report")" \
             'BEGIN { printf "%.3f", (m > 0 && s > 0 ? s / m : 1.75) }')
a_rate=$(awk -v r="$per_mo" 'BEGIN { printf "%d", 2000 / r }')
binds_phase 4x500 2 2 1000 "$a_rate"
for n in 1 2 4 6; do
  if [ $n -eq 1 ]; then binds_phase max-1bind 1 1 0 0
  else binds_phase "max-${n}binds" 2 $((n / 2)) 0 0; fi
done

mapfile -t problems < <(verdict p99-1bind 1; verdict p99-4binds 4; verdict 4x500 4
                        verdict max-1bind 1; verdict max-2binds 2; verdict max-4binds 4
                        verdict max-6binds 6)

echo
echo "== Results ($(nproc) cores). submits/s: the daemon's submit_sm taken per second, all"
echo "   binds; evenness: the least over the most submits/s of one bind; latency: MO"
echo "   sent to its reply's first part; steal %: the CPU time the host took, phase/worst second"
printf '  %-12s %9s %10s %12s %8s %8s %10s %6s\n' phase "acked/s" "submits/s" "evenness" \
  "p50 ms" "p99 ms" "steal %" check
for p in p99-1bind p99-4binds 4x500 max-1bind max-2binds max-4binds max-6binds; do
  f=$work/$p.report
  printf '  %-12s %9s %10s %12s %8s %8s %10s %6s\n' "$p" "$(field acked_per_s "$f")" \
    "$(field submitted_per_s "$f")" "$(evenness "$p" | cut -d' ' -f3)" \
    "$(field latency_p50_ms "$f")" "$(field latency_p99_ms "$f")" \
    "$(field host_steal_pct "$f")/$(field host_steal_worst_s_pct "$f")" "$(field result "$f")"
done
echo
echo "  (a) four binds, each SMSC's rate 1000, $a_rate MO/s ($per_mo submits per MO at one bind):"
bind_rates 4x500 | awk '{ printf "      bind %s: %s submits/s\n", $1, $2 }'
read -r lo hi ratio <<< "$(evenness 4x500)"
echo "      least $lo, most $hi submits/s a bind: evenness $ratio; p99 $(field latency_p99_ms "$work/4x500.report") ms"
echo "  (c) p99 at 1000 MO/s: one bind $(field latency_p99_ms "$work/p99-1bind.report") ms," \
     "four binds $(field latency_p99_ms "$work/p99-4binds.report") ms"
# (b): where more binds stop adding 5 % to what is sustained.
awk -v a="$(field acked_per_s "$work/max-1bind.report")" -v b="$(field acked_per_s "$work/max-2binds.report")" \
    -v c="$(field acked_per_s "$work/max-4binds.report")" -v d="$(field acked_per_s "$work/max-6binds.report")" \
  'BEGIN { n[1] = 1; n[2] = 2; n[3] = 4; n[4] = 6; r[1] = a; r[2] = b; r[3] = c; r[4] = d
           best = 1
           for (i = 2; i <= 4; i++) if (r[i] > r[best] * 1.05) best = i; else break
           printf "  (b) the most sustained: %s, %s, %s and %s MO/s over 1, 2, 4 and 6 binds; ", a, b, c, d
           if (best == 4) print "still growing by 5 % or more at 6 binds, the most tried"
           else printf "more binds stop adding 5 %% past %d\n", n[best] }'
for p in p99-1bind p99-4binds 4x500 max-1bind max-2binds max-4binds max-6binds; do
  steal=$(field host_steal_pct "$work/$p.report")
  if awk -v s="$steal" 'BEGIN { exit !(s + 0 > 5) }'; then
    echo "  note: the host took $steal % of the CPUs during $p: its latency tells more about the host"
  fi
done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'bench-binds.sh: %s\n' "${problems[@]}" >&2
  exit 1
fi
