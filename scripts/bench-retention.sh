#!/usr/bin/env bash
# The database's size over a campaign's months, without and with retention.
# giftgate-history writes each simulated day's traffic through the domain
# (the load's mix: per redemption two balance asks, the ask, the confirm, a
# verification for every third voucher, every message submitted and given
# its receipt), twice: once never pruning, once pruning at each day's end
# with every retention period set to --retention-days. Prints the two sizes
# side by side, the time each day's pruning took, and the size per million
# redemptions of each.
#
#   scripts/bench-retention.sh                  # 100 days, 5,000 redemptions a day
#                                               # (about 15 minutes on 2 cores)
#   scripts/bench-retention.sh --short          # 4 days of 200, retention 1 day (the test)
#   scripts/bench-retention.sh --days D --per-day R --retention-days N
#   scripts/bench-retention.sh --build-dir DIR  # use the programs built there (no build)
#
# Work files go to $GIFTGATE_BENCH_DIR (default build/bench), on the disk
# the daemon would use. Exit status 1 when retention did not keep the file
# smaller than no retention once a whole period had passed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
days=100
per_day=5000
retention=90
members=100000
bin=
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --short) days=4; per_day=200; retention=1; members=2000 ;;
    --days) i=$((i + 1)); days=${!i} ;;
    --per-day) i=$((i + 1)); per_day=${!i} ;;
    --retention-days) i=$((i + 1)); retention=${!i} ;;
    --build-dir) i=$((i + 1)); bin=${!i} ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench-retention.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  GIFTGATE_BUILD_TARGETS="giftgate-history" "$root/scripts/bootstrap.sh" >&2
  bin=$root/build
fi
work=${GIFTGATE_BENCH_DIR:-$bin/bench}/retention
rm -rf "$work"
mkdir -p "$work"
history=$bin/tests/giftgate-history

run() {  # $1 name, then options
  local name=$1
  shift
  "$history" --db "$work/$name.db" --days "$days" --per-day "$per_day" --members "$members" \
    --retention-days "$retention" "$@" > "$work/$name.out"
}
echo "== $days days of $per_day redemptions a day, $members members; retention $retention days"
# The two side by side, one core each.
run kept &
kept_pid=$!
run pruned --prune
wait "$kept_pid"

field() { grep -oE "(^| )$1=[^ ]+" <<< "$2" | tail -n 1 | cut -d= -f2; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }  # MB of 10^6 bytes
printf '%5s %13s %16s %16s %14s %10s\n' day redemptions "kept MB" "pruned MB" "(of it free)" "prune s"
every=$(( days >= 20 ? 10 : 1 ))
paste -d '\n' <(grep '^day=' "$work/kept.out") <(grep '^day=' "$work/pruned.out") |
  while read -r kept && read -r pruned; do
    d=$(field day "$kept")
    if [ $((d % every)) -eq 0 ] || [ "$d" -eq "$days" ] || [ "$d" -eq 1 ]; then
      printf '%5s %13s %16s %16s %14s %10s\n' "$d" "$(field redemptions "$kept")" \
        "$(mb "$(field bytes "$kept")")" "$(mb "$(field bytes "$pruned")")" \
        "$(mb "$(field free "$pruned")")" "$(field prune_s "$pruned")"
    fi
  done
kept_end=$(grep '^end ' "$work/kept.out")
pruned_end=$(grep '^end ' "$work/pruned.out")
total_prune=$(awk '/^day=/ { for (i = 1; i <= NF; i++) if ($i ~ /^prune_s=/) { split($i, a, "="); s += a[2] } } END { printf "%.1f", s }' "$work/pruned.out")
max_prune=$(awk '/^day=/ { for (i = 1; i <= NF; i++) if ($i ~ /^prune_s=/) { split($i, a, "="); if (a[2] > m) m = a[2] } } END { printf "%.2f", m }' "$work/pruned.out")
echo
echo "bytes in use per million redemptions (over the start): without retention $(mb "$(field used_over_start_per_million_redemptions "$kept_end")") MB, with $(mb "$(field used_over_start_per_million_redemptions "$pruned_end")") MB"
sum() { awk -v k="$1" '/^day=/ { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$work/pruned.out"; }
longest=$(awk '/^day=/ { for (i = 1; i <= NF; i++) if ($i ~ /^longest_batch_ms=/) { split($i, a, "="); if (a[2] > m) m = a[2] } } END { printf "%.1f", m }' "$work/pruned.out")
echo "pruning took ${total_prune} s in all, at most ${max_prune} s on one day; rows pruned: $(sum pruned) in $(sum batches) batches, the longest ${longest} ms"
kept_bytes=$(field bytes "$kept_end")
pruned_bytes=$(field bytes "$pruned_end")
if [ "$days" -gt "$((retention + 1))" ] && [ "$pruned_bytes" -ge "$kept_bytes" ]; then
  echo "bench-retention.sh: retention did not keep the file smaller" >&2
  exit 1
fi
