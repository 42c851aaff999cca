#!/usr/bin/env bash
# giftgate-loadgen's check of itself, with no daemon: its trivial ESMEs
# (giftgate-loadgen sink) bind to a run of two SMSCs, two binds on SMSC 1
# and one on SMSC 2, and the report must show what the benchmark and the
# drills rely on: the MOs spread evenly over the SMSCs and over an SMSC's
# binds, every one answered; a receipt sent on the other bind of its
# submit's SMSC; each SMSC giving message ids from the same start; and a
# fault command with "@S" reaching SMSC S alone, the load moving to the
# other while it is down.
#
#   tests/bench/loadgen/selftest.sh BUILD_DIR
set -euo pipefail
loadgen=${1:?usage: selftest.sh BUILD_DIR}/tests/giftgate-loadgen
work=$(mktemp -d "${TMPDIR:-/tmp}/giftgate-loadgen-selftest.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() { echo "selftest: FAIL: $*" >&2; failures=$((failures + 1)); }
field() { { grep -oE "(^| )$1=[^ ]+" "$2" || true; } | tail -n 1 | cut -d= -f2; }
# The value of key $2 on the line that starts with $1 (e.g. "smsc smsc=2 ").
line_field() { field "$2" <(grep -E "^$1" "$3" || true); }

wait_ready() {  # $1 output file; sets $ports (bounded: 5 s)
  local t=0
  while ! grep -q '^ready ' "$1" && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done
  ports=$(field ports "$1")
  [ -n "$ports" ] || { echo "selftest: the generator did not start (or has no --smscs)" >&2; cat "$1" >&2; exit 1; }
}

wait_exit() {  # $1 pid, $2 seconds
  local t=0
  while kill -0 "$1" 2>/dev/null && [ $t -lt $(($2 * 10)) ]; do sleep 0.1; t=$((t + 1)); done
  kill -0 "$1" 2>/dev/null && { echo "selftest: pid $1 did not finish" >&2; exit 1; }
  wait "$1" || true
}

sink() {  # $1 port, $2 name
  "$loadgen" sink --port "$1" > "$work/$2.sink" 2>&1 &
  pids+=($!)
  eval "$2=$!"
}

stop_sink() {  # $1 pid
  kill -TERM "$1" 2>/dev/null || true
  wait_exit "$1" 5
}

ratio_at_least() {  # $1 a, $2 b, $3 the least min/max allowed
  awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a; exit !(hi > 0 && lo / hi >= r) }'
}

# --- the spread, receipts across binds, message ids --------------------------

out=$work/spread.out
"$loadgen" smsc --smscs 2 --members 1000 --rate 2000 --warmup 0.5 --duration 2 --settle 10 \
  > "$out" 2> "$work/spread.err" &
lg=$!
pids+=("$lg")
wait_ready "$out"
p1=${ports%%,*}
p2=${ports##*,}
sink "$p1" a1
sink "$p1" a2
sink "$p2" b1
wait_exit "$lg" 30
# shellcheck disable=SC2154  # set by sink through eval
for s in "$a1" "$a2" "$b1"; do stop_sink "$s"; done

sent=$(field mo_sent "$out")
acked=$(field mo_acked "$out")
[ "${sent:-0}" -gt 1000 ] || fail "too few MOs sent: ${sent:-none}"
[ "$sent" = "$acked" ] || fail "MOs sent $sent, acknowledged $acked"
s1=$(line_field 'smsc smsc=1 ' mo_sent "$out")
s2=$(line_field 'smsc smsc=2 ' mo_sent "$out")
ratio_at_least "${s1:-0}" "${s2:-0}" 0.8 || fail "MOs not spread over the SMSCs: $s1 and $s2"
b1=$(line_field 'bind smsc=1 bind=1 ' submits "$out")
b2=$(line_field 'bind smsc=1 bind=2 ' submits "$out")
ratio_at_least "${b1:-0}" "${b2:-0}" 0.8 || fail "submits not spread over SMSC 1's binds: $b1 and $b2"
other=$(line_field 'smsc smsc=1 ' receipts_other_bind "$out")
receipts=$(line_field 'smsc smsc=1 ' receipts_sent "$out")
# All but those sent before its second bind came.
awk -v o="${other:-0}" -v r="${receipts:-0}" 'BEGIN { exit !(r > 0 && o >= 0.9 * r) }' ||
  fail "SMSC 1 (two binds) sent only $other of its $receipts receipts on the other bind"
[ "$(line_field 'smsc smsc=2 ' receipts_other_bind "$out")" = 0 ] ||
  fail "SMSC 2 (one bind) sent receipts on another bind"
[ "$(field first_receipt_id "$work/b1.sink")" = 1000000 ] || fail "SMSC 2's first id is not 1000000"
grep -q 'first_receipt_id=1000000 ' "$work/a1.sink" "$work/a2.sink" ||
  fail "SMSC 1's first id is not 1000000"
echo "spread: mos=$sent smsc1=$s1 smsc2=$s2 smsc1_binds=$b1/$b2 receipts_other_bind=$other/$receipts"

# --- a fault aimed at one SMSC ----------------------------------------------

out=$work/control.out
mkfifo "$work/control.ctl"
"$loadgen" smsc --smscs 2 --members 1000 --rate 400 --control --settle 10 \
  < "$work/control.ctl" > "$out" 2> "$work/control.err" &
lg=$!
pids+=("$lg")
exec {ctl}> "$work/control.ctl"
wait_ready "$out"
p1=${ports%%,*}
p2=${ports##*,}
sink "$p1" a1
sink "$p2" b1
t=0
while [ "$(grep -c '^bound ' "$out" || true)" -lt 2 ] && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done
sleep 0.5

ask() {  # sends a command, prints its answer (bounded: 5 s)
  local before t=0
  before=$(grep -cE '^(ok|error) ' "$out" || true)
  printf '%s\n' "$*" >&"$ctl"
  while [ "$(grep -cE '^(ok|error) ' "$out" || true)" -le "$before" ] && [ $t -lt 100 ]; do
    sleep 0.05; t=$((t + 1))
  done
  grep -E '^(ok|error) ' "$out" | tail -n 1
}
answer=$(ask "@2 drop")
[[ $answer == "ok cmd=drop smsc=2 "* ]] || fail "@2 drop answered: $answer"
[ "$(field closes <(echo "$answer"))" = 1 ] || fail "@2 drop did not close SMSC 2's bind: $answer"
answer=$(ask "@1 stats")
[ "$(field closes <(echo "$answer"))" = 0 ] || fail "@2 drop closed SMSC 1's bind: $answer"
[ "$(field bound <(echo "$answer"))" = 1 ] || fail "SMSC 1 not bound after @2 drop: $answer"
answer=$(ask "@3 drop")
[[ $answer == "error cmd=@3 "* ]] || fail "@3 drop (no SMSC 3) answered: $answer"
before2=$(field mo_sent <(ask "@2 stats"))
before1=$(field mo_sent <(ask "@1 stats"))
sleep 1
after2=$(field mo_sent <(ask "@2 stats"))
after1=$(field mo_sent <(ask "@1 stats"))
[ "$before2" = "$after2" ] || fail "SMSC 2 sent MOs while down: $before2 then $after2"
[ $((after1 - before1)) -gt 200 ] || fail "SMSC 1 did not carry the load alone: $before1 then $after1"
sink "$p2" b2  # SMSC 2 back: what it had unanswered is delivered again
t=0
while [ "$(grep -c '^bound smsc=2 ' "$out" || true)" -lt 2 ] && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done
sleep 1
printf 'finish 10\n' >&"$ctl"
exec {ctl}>&-
wait_exit "$lg" 30
# shellcheck disable=SC2154
for s in "$a1" "$b2"; do stop_sink "$s"; done
grep -q '^settle timed_out' "$out" && fail "not every MO answered after SMSC 2 came back"
[ "$(field mo_sent "$out")" = "$(field mo_acked "$out")" ] || fail "MOs sent and acknowledged differ"
[ "$(line_field 'smsc smsc=2 ' binds "$out")" = 2 ] || fail "SMSC 2 was not bound twice"
[ "$(line_field 'smsc smsc=1 ' closes "$out")" = 0 ] || fail "SMSC 1 lost its bind"
echo "control: smsc1 sent $((after1 - before1)) MOs in the second SMSC 2 was down, it none; mos=$(field mo_sent "$out") all answered"

[ $failures -eq 0 ] && echo "selftest: ok"
exit $((failures > 0))
