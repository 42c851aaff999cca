#!/usr/bin/env bash
# Generates N members into a fresh giftgate database, fast enough for ten
# million (scripts/bench-push.sh): giftctl creates the schema, then one
# sqlite3 transaction inserts the members and their opening balances from a
# recursive CTE. giftctl import would take hours for that many; this takes
# minutes, and writes what an import writes for a member and a balance
# except the member_added and points events (the history is not what a push
# reads).
#
#   tests/bench/gen-members.sh --giftctl PATH --config YAML --db PATH --members N
#
# Member i (0 to N-1): msisdn 86138 and i in 8 digits (the numbers
# giftgate-loadgen's members text from), city i mod 5 of the shipped
# campaign's five, language en for one in ten, opted out (TD) for one in a
# hundred, created over the year before now. Six in ten have an opening
# balance of 500 to 7,999 points, so that audiences by balance or by the
# tier it affords (A 5000, B 2500, C 1000) match some and not others.
# The database must not exist yet (the ids are 1 to N). Ten million took
# 49 s and made 1.6 GiB on the 2-core test machine.
set -euo pipefail
giftctl='' config='' db='' members=''
for ((i = 1; i <= $#; i++)); do
  case ${!i} in
    --giftctl) i=$((i + 1)); giftctl=${!i} ;;
    --config) i=$((i + 1)); config=${!i} ;;
    --db) i=$((i + 1)); db=${!i} ;;
    --members) i=$((i + 1)); members=${!i} ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gen-members.sh: unknown option ${!i}" >&2; exit 2 ;;
  esac
done
[ -n "$giftctl" ] && [ -n "$config" ] && [ -n "$db" ] && [ -n "$members" ] ||
  { echo "gen-members.sh: --giftctl, --config, --db and --members are all needed" >&2; exit 2; }
[[ $members =~ ^[0-9]+$ ]] && [ "$members" -ge 1 ] && [ "$members" -le 100000000 ] ||
  { echo "gen-members.sh: --members wants 1 to 100,000,000" >&2; exit 2; }
[ -e "$db" ] && { echo "gen-members.sh: $db exists; it wants a fresh database" >&2; exit 2; }
command -v sqlite3 > /dev/null ||
  { echo "gen-members.sh: needs the sqlite3 program (scripts/bootstrap.sh installs it)" >&2; exit 2; }

# Any command that opens the database the ordinary way creates it and runs
# the migrations; stats only reads.
"$giftctl" --config "$config" --db "$db" --operator gen-members stats > /dev/null

# The rollback journal instead of WAL while it fills: the WAL would grow by
# the whole database before its checkpoint. Back to WAL (as giftgated keeps
# it) at the end. synchronous off: a crash here only loses the benchmark's
# input, made again by running this again.
sqlite3 -bail "$db" > /dev/null <<SQL
PRAGMA journal_mode = DELETE;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;
BEGIN;
-- Ids in msisdn order, so both indexes of members only grow at their end.
-- h: a hash of i (Knuth's multiplier), so that language, opt-out and balance
-- do not follow the city (i % 5) or one another.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $members),
h(i, h) AS (SELECT i, (i * 2654435761) % 4294967296 FROM n)
INSERT INTO members(id, msisdn, city, language, care_opt_out, created_at)
SELECT i + 1,
       '86138' || printf('%08d', i),
       CASE i % 5 WHEN 0 THEN 'beijing' WHEN 1 THEN 'shanghai' WHEN 2 THEN 'shenzhen'
                  WHEN 3 THEN 'nanjing' ELSE 'fuzhou' END,
       CASE WHEN (h >> 8) % 10 = 7 THEN 'en' ELSE 'zh' END,
       CASE WHEN (h >> 16) % 100 = 42 THEN 1 ELSE 0 END,
       strftime('%Y-%m-%dT%H:%M:%SZ', unixepoch() - 60 - (i * 7919) % 31536000, 'unixepoch')
FROM h;
INSERT INTO ledger(member_id, delta, reason, channel, actor, reference, created_at)
SELECT id, 500 + (((id - 1) * 2654435761) % 4294967296 >> 12) % 7500, 'opening balance',
       'import', 'gen-members', 'opening:' || msisdn, created_at
FROM members WHERE (((id - 1) * 2654435761) % 4294967296 >> 4) % 10 < 6;
COMMIT;
PRAGMA journal_mode = WAL;
SQL

got=$(sqlite3 "$db" "SELECT COUNT(*) FROM members")
[ "$got" = "$members" ] || { echo "gen-members.sh: $got members in $db, not $members" >&2; exit 1; }
