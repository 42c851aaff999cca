#!/usr/bin/env bash
# The campaign ledger's figures: redemptions per second committed to disk,
# and the time to find one member and their balance at 10,000 and at
# 10,000,000 generated members (so the cost of growth shows).
#
#   scripts/bench-ledger.sh            # 10k and 10M members (the 10M run
#                                      # needs about 2 GB of disk, a few minutes)
#   scripts/bench-ledger.sh 10000 1000000
#
# The databases go to $GIFTGATE_BENCH_DIR (default build/bench), on the
# disk the daemon would use, never tmpfs, so fsync costs what it costs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh" >&2
dir=${GIFTGATE_BENCH_DIR:-$root/build/bench}
mkdir -p "$dir"
bench=$root/build/tests/giftgate-bench-ledger
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 10000000)
for n in "${sizes[@]}"; do
  echo "== $n members"
  "$bench" --members "$n" --redemptions 5000 --lookups 50000 --db "$dir/ledger-$n.db"
  rm -f "$dir/ledger-$n.db" "$dir/ledger-$n.db-wal" "$dir/ledger-$n.db-shm"
done
echo "== giftctl import of 100,000 rows (members, then activity, then activity again)"
awk 'BEGIN { print "msisdn,city,points"; split("beijing shanghai shenzhen nanjing fuzhou", c, " ");
             for (i = 0; i < 100000; i++) printf "1380%07d,%s,%d\n", i, c[i % 5 + 1], i % 20000 }' \
  > "$dir/members-100k.csv"
awk 'BEGIN { print "msisdn,activity,quantity,period";
             for (i = 0; i < 100000; i++) printf "1380%07d,service_use,%d,2026-11\n", i, i % 7 + 1 }' \
  > "$dir/activity-100k.csv"
rm -f "$dir"/import.db*
ctl() { GIFTGATE_CONFIG=/dev/null "$root/build/daemon/giftctl/giftctl" --db "$dir/import.db" --quiet "$@"; }
for step in "members members-100k.csv" "activity activity-100k.csv" "activity activity-100k.csv"; do
  set -- $step
  start=$(date +%s.%N)
  ctl import "$1" "$dir/$2"
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "  took %.2f s\n", e - s }'
done
rm -f "$dir"/import.db* "$dir"/members-100k.csv "$dir"/activity-100k.csv
echo "== synchronous=NORMAL for comparison (10000 members; not what the daemon uses)"
"$bench" --members 10000 --redemptions 5000 --lookups 1000 --synchronous NORMAL \
  --db "$dir/ledger-normal.db"
rm -f "$dir"/ledger-normal.db*
