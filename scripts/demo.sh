#!/usr/bin/env bash
# The main job, end to end, on one machine: installs what is missing, builds,
# starts the SMSC simulator and giftgated on the shipped configuration with
# demo members and merchants, plays a member and a merchant, and prints the
# conversation with each message's delivery receipt, then giftctl's report.
# Everything it starts it stops again, by process id.
#
#   scripts/demo.sh            # work files in a temporary directory, removed
#   scripts/demo.sh --keep     # keep them (database, logs) and say where
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
keep=0
for arg in "$@"; do
  case $arg in
    --keep) keep=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '%s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

# --- build ------------------------------------------------------------------

say "== Building (scripts/bootstrap.sh; compiler output in build/demo-build.log)"
mkdir -p "$root/build"
GIFTGATE_BUILD_TARGETS="giftgated giftctl" \
  "$root/scripts/bootstrap.sh" > "$root/build/demo-build.log" ||
  { tail -n 30 "$root/build/demo-build.log" >&2; die "the build failed"; }
giftgated=$root/build/daemon/gateway/giftgated
giftctl=$root/build/daemon/giftctl/giftctl
[ -x "$giftgated" ] && [ -x "$giftctl" ] || die "the build left no giftgated or giftctl"

work=$(mktemp -d /tmp/giftgate-demo.XXXXXX)
sim_pid=
daemon_pid=
cleanup() {
  local status=$?
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  if [ $keep -eq 1 ] || [ $status -ne 0 ]; then
    say "Work files kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# --- the simulator, driven over its line protocol -------------------------

coproc SIM { exec node "$root/scripts/smsc-sim/smsc-sim.js" --port 0 2> "$work/smsc-sim.log"; }
sim_pid=$SIM_PID
exec {sim_in}>&"${SIM[1]}" {sim_out}<&"${SIM[0]}"

declare -A field               # the fields of the last line read
declare -A submitted_ids       # destination -> SMSC message ids since its last message
declare -A receipt_of          # message id -> receipt stat
declare -A received            # destination -> whole messages not yet shown
declare -A message_ids         # destination -> the ids of those messages' parts
declare -A screens             # destination -> USSD screens not yet shown
event=

decode() {  # percent-decoding, as the simulator encodes values
  printf '%b' "${1//%/\\x}"
}

# Reads one line (at most $1 seconds); sets $event and field[].
read_line() {
  local line token tokens
  IFS= read -r -t "$1" -u "$sim_out" line || return 1
  read -r -a tokens <<< "$line"
  field=()
  event=${tokens[0]:-}
  for token in "${tokens[@]:1}"; do
    field[${token%%=*}]=$(decode "${token#*=}")
  done
  case $event in
    submit)  # an SMS part (USSD screens have no receipts)
      [ -n "${field[id]:-}" ] && [ "${field[service_type]:-}" != USSD ] &&
        submitted_ids[${field[dst]}]+="${field[id]} "
      ;;
    receipt_sent) receipt_of[${field[id]}]=${field[stat]} ;;
    ussd_screen)
      screens[${field[dst]}]+="${field[text]}"$'\x1f'"${field[ends]}"$'\x1e'
      ;;
    message)
      [ -n "${field[ussd_op]:-}" ] && return 0  # a USSD screen: shown as one
      received[${field[dst]}]+="${field[text]}"$'\x1e'
      message_ids[${field[dst]}]+="${submitted_ids[${field[dst]}]:-}"$'\x1e'
      submitted_ids[${field[dst]}]=
      ;;
  esac
  return 0
}

# Waits up to $2 seconds for an event named $1 whose fields match the
# remaining key=value arguments.
await() {
  local name=$1 deadline=$((SECONDS + $2)) kv ok
  shift 2
  while [ $SECONDS -lt $deadline ]; do
    read_line 1 || continue
    [ "$event" = "$name" ] || continue
    ok=1
    for kv in "$@"; do
      [ "${field[${kv%%=*}]:-}" = "${kv#*=}" ] || ok=0
    done
    [ $ok -eq 1 ] && return 0
  done
  return 1
}

sim() {  # a command; its ok line, or the script stops
  local name=${1%% *}
  printf '%s\n' "$1" >&"$sim_in"
  await ok 5 "cmd=$name" || die "the simulator did not answer '$1'"
}

await ready 20 || die "the simulator did not start (see $work/smsc-sim.log)"
port=${field[port]}

# --- the campaign: shipped configuration, demo members and merchants -------

# Only what differs from conf/giftgate.yaml (compiled in as the defaults):
# the simulator's port, files under the work directory, and a campaign
# window around today so that the demo runs whatever the date.
today=$(date +%Y-%m-%d)
cat > "$work/giftgate.yaml" <<EOF
smsc:
  port: $port
storage:
  path: $work/campaign.db
templates:
  path: $root/templates/messages.yaml
ussd:
  menus: $root/templates/menus.yaml
daemon:
  pid_file: $work/giftgated.pid
metrics:
  port: 0
pushes:
  quiet_hours: "00:00-00:00"   # the demo runs at any hour
api:
  listen: 127.0.0.1
  port: 0                      # any free port: the start's log line says which
  tls_certificate: $work/certs/server.pem
  tls_key: $work/certs/server.key
campaign:
  start: $(date -d "$today -1 day" +%Y-%m-%d)
  end: $(date -d "$today +60 days" +%Y-%m-%d)
EOF
ctl() { "$giftctl" --config "$work/giftgate.yaml" --operator demo "$@"; }

cat > "$work/members.csv" <<'EOF'
msisdn,city,language,points
13800138000,beijing,zh,12000
+86 139 0013 9000,shanghai,en,5000
13700000001,beijing,zh,3000
13700000002,beijing,en,6000
13700000003,beijing,zh,1500
13700000004,beijing,zh,800
13700000005,beijing,en,2600
13700000006,beijing,zh,5200
13700000007,beijing,zh,1000
13700000008,beijing,zh,0
13700000009,beijing,en,4100
13700000010,beijing,zh,9000
EOF
cat > "$work/merchants.csv" <<'EOF'
id,name,city,kind,level,phones,offer_a,offer_b,offer_c
bj-ktv-1,金曲KTV,beijing,ktv,high,13911112222,欢唱5小时,欢唱2小时,欢唱1小时
bj-cin-1,光影影院,beijing,cinema,middle,13911113333,电影票4张,电影票2张,电影票1张
sh-ktv-1,Harbour KTV,shanghai,ktv,middle,13922224444,5 hours,2 hours,1 hour
EOF
say ""
say "== The campaign (giftctl, on the shipped configuration)"
ctl import members "$work/members.csv"
ctl import merchants "$work/merchants.csv"
ctl stock A beijing 100 >/dev/null
ctl stock B beijing 200 >/dev/null
ctl stock A shanghai 100 >/dev/null
ctl stock B shanghai 200 >/dev/null
ctl stock C shanghai 300 >/dev/null
ctl stock

# A test certificate authority and the API's certificate for localhost.
"$root/scripts/api-cert.sh" "$work/certs" > /dev/null
# The other channels' keys: a cinema's terminal and the club's points system.
key_of() { grep -oE 'ggk_[A-Za-z0-9_-]+' | head -n 1; }
till_key=$(ctl api-key create cinema-till-1 --role merchant --merchant bj-cin-1 | key_of)
points_key=$(ctl api-key create club-points --role points | key_of)
[ -n "$till_key" ] && [ -n "$points_key" ] || die "giftctl api-key create showed no key"
say "giftctl api-key create cinema-till-1 --role merchant --merchant bj-cin-1   (key shown once)"
say "giftctl api-key create club-points --role points                          (key shown once)"
# A service desk agent for the console; the password stays in the work folder.
openssl rand -base64 18 > "$work/console-password"
ctl agent add desk-wang --role agent < "$work/console-password" > /dev/null
say "giftctl agent add desk-wang --role agent   (password read from a file, stored as its scrypt hash)"

# --- the daemon ----------------------------------------------------------

sim "set receipts=on receipt_hold=on"
"$giftgated" --config "$work/giftgate.yaml" 2> "$work/giftgated.log" &
daemon_pid=$!
await bind 15 accepted=1 || die "giftgated did not bind (see $work/giftgated.log)"
say ""
say "== giftgated (pid $daemon_pid) bound to the SMSC simulator on 127.0.0.1:$port"

# --- the conversation ----------------------------------------------------

clock() { TZ=Asia/Shanghai date +%H:%M:%S; }  # the campaign's zone, as in the texts
last_reply=

# $1 texts $2 to the service; prints the reply to $1 and its receipt.
text() {
  local from=$1 body=$2
  printf '%s  %-13s -> 12580    %s\n' "$(clock)" "$from" "$body"
  sim "mo src=86$from dst=12580 text=$(encode "$body")"
  reply "$from"
}

# Prints the next message to $1 with the receipt of each of its parts.
reply() {
  local to=86$1 ids id states= deadline=$((SECONDS + 20))
  while [ -z "${received[$to]:-}" ] && [ $SECONDS -lt $deadline ]; do read_line 1 || true; done
  [ -n "${received[$to]:-}" ] || die "no reply to $1 (see $work/giftgated.log)"
  last_reply=${received[$to]%%$'\x1e'*}
  received[$to]=${received[$to]#*$'\x1e'}
  ids=${message_ids[$to]%%$'\x1e'*}
  message_ids[$to]=${message_ids[$to]#*$'\x1e'}
  for id in $ids; do
    deadline=$((SECONDS + 10))
    while [ -z "${receipt_of[$id]:-}" ] && [ $SECONDS -lt $deadline ]; do read_line 1 || true; done
    states+="${receipt_of[$id]:-no receipt} "
  done
  printf '%s  12580 -> %-13s    %s\n' "$(clock)" "$1" "${last_reply//$'\n'/$'\n'                                  }"
  set -- $states
  if [ $# -gt 1 ]; then printf '%34s[receipts: %s (%d parts)]\n' "" "${states% }" $#
  else printf '%34s[receipt: %s]\n' "" "${states% }"
  fi
}

# USSD: $1 dials $2, or presses $2 in the open session; prints the screen.
ussd() {
  local who=$1 what=$2 kind=$3 to screen text ends deadline=$((SECONDS + 20))
  to=86$who
  if [ "$kind" = dial ]; then
    printf '%s  %-13s dials    %s\n' "$(clock)" "$who" "$what"
    sim "dial src=$to code=$(encode "$what")"
  else
    printf '%s  %-13s presses  %s\n' "$(clock)" "$who" "$what"
    sim "press src=$to text=$(encode "$what")"
  fi
  while [ -z "${screens[$to]:-}" ] && [ $SECONDS -lt $deadline ]; do read_line 1 || true; done
  [ -n "${screens[$to]:-}" ] || die "no USSD screen for $who (see $work/giftgated.log)"
  screen=${screens[$to]%%$'\x1e'*}
  screens[$to]=${screens[$to]#*$'\x1e'}
  text=${screen%$'\x1f'*}
  ends=${screen##*$'\x1f'}
  printf '%s  screen -> %-12s    %s\n' "$(clock)" "$who" "${text//$'\n'/$'\n'                                  }"
  if [ "$ends" = 1 ]; then printf '%34s[session ended]\n' ""; fi
}

encode() {  # percent-encodes UTF-8 for the simulator's line protocol
  local LC_ALL=C s=$1 out= c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

say ""
say "== A member in Beijing (13800138000, zh) redeems tier A"
text 13800138000 "JF"
text 13800138000 "兑换A"
text 13800138000 "是"
code=$(grep -oE '[A-HJ-NP-Z]{2}[0-9]{8}' <<< "$last_reply" | head -n 1)
[ -n "$code" ] || die "the voucher SMS carried no code"
text 13800138000 "CX"
text 13800138000 "商户 KTV"

say ""
say "== The KTV bar's registered phone (13911112222) verifies the code, then tries it again"
text 13911112222 "HX $code"
reply 13800138000
text 13911112222 "$code"

say ""
say "== A member in Shanghai (13900139000, en) asks in English"
text 13900139000 "bal"
text 13900139000 "redeem b"
text 13900139000 "yes"

say ""
say "== The Shanghai member dials the USSD code instead, redeems tier C, and gets the code by SMS"
ussd 13900139000 "*12580#" dial
ussd 13900139000 "2" press
ussd 13900139000 "3" press
ussd 13900139000 "1" press
reply 13900139000

say ""
say "== Over HTTPS: the cinema's terminal verifies a member's code (curl), then tries it again"
api_port=$(grep -m 1 'event=started' "$work/giftgated.log" | grep -oE 'api_port=[0-9]+' | cut -d= -f2)
[ -n "$api_port" ] || die "giftgated did not say its API port (see $work/giftgated.log)"
# $1 key, $2 method, $3 path, $4 body: prints the request and the answer.
api() {
  local answer data=()
  [ -z "$4" ] || data=(-H 'Content-Type: application/json' --data-binary "$4")
  printf '%s  %-13s %s %s %s\n' "$(clock)" "$5" "$2" "$3" "$4"
  answer=$(curl -sS --cacert "$work/certs/ca.pem" -X "$2" -H "Authorization: Bearer $1" \
    "${data[@]}" -w ' (HTTP %{http_code})' "https://localhost:$api_port$3") || die "curl failed on $3"
  printf '%s\n' "$answer" | sed -e 's/},{/},\n{/g' | sed -e 's/^/                                  /'
}
text 13700000010 "兑换B"
text 13700000010 "是"
code2=$(grep -oE '[A-HJ-NP-Z]{2}[0-9]{8}' <<< "$last_reply" | head -n 1)
[ -n "$code2" ] || die "the voucher SMS carried no code"
api "$till_key" POST /v1/verifications "{\"code\":\"$code2\"}" terminal
reply 13700000010
api "$till_key" POST /v1/verifications "{\"code\":\"$code2\"}" terminal
api "$till_key" GET "/v1/verifications?date=$(TZ=Asia/Shanghai date +%Y-%m-%d)" "" terminal

say ""
say "== The club's points system reads the redemption feed (every deduction and refund, paged)"
api "$points_key" GET "/v1/points/redemptions?after=0&limit=10" "" points-system

say ""
say "== The service desk console, in a browser: https://localhost:$api_port/console/"
say "   (agent desk-wang, password in $work/console-password; the demo's CA is $work/certs/ca.pem)"
if [ $keep -eq 1 ]; then
  # Headless chromium signs in, finds a member by the number as a caller
  # reads it out, and keeps pictures of the member page and the dashboard.
  cat > "$work/console-steps.json" <<STEPS
[{"do":"goto","path":"/console/login"},
 {"do":"fill","selector":"#sign-in [name=name]","value":"desk-wang"},
 {"do":"fill","selector":"#sign-in [name=password]","value":"$(cat "$work/console-password")"},
 {"do":"submit","form":"#sign-in"},
 {"do":"fill","selector":"#search [name=q]","value":"+86 138 0013 8000"},
 {"do":"submit","form":"#search"},
 {"do":"expect","selector":"#balance-points"},
 {"do":"screenshot","name":"member"},
 {"do":"goto","path":"/console/dashboard"},
 {"do":"expect","selector":"svg"},
 {"do":"screenshot","name":"dashboard"}]
STEPS
  if timeout -k 5 120 node "$root/tests/browser/console.mjs" --base "https://localhost:$api_port" \
       --ca "$work/certs/ca.pem" --shots "$work/screenshots" --steps "$work/console-steps.json" \
       > "$work/console-run.json" 2> "$work/console-run.log"; then
    say "   screenshots: $work/screenshots/member.png, $work/screenshots/dashboard.png"
  else
    say "   (the screenshots failed: see $work/console-run.json)"
  fi
  rm -f "$work/console-steps.json"
fi

say ""
say "== A care push to the Beijing members whose points afford a voucher, 30 % held out"
ctl push create tips-bj --template push_tips --audience 'city = beijing and affords C' \
  --holdout 30 --dry-run
at=$(TZ=Asia/Shanghai date -d '+8 seconds' '+%Y-%m-%dT%H:%M:%S')
ctl push create tips-bj --template push_tips --audience 'city = beijing and affords C' \
  --holdout 30 --at "$at"
ctl push test tips-bj 13911119999 >/dev/null
printf '%s  giftctl push test tips-bj 13911119999 (a staff phone sees it before it starts)\n' "$(clock)"
reply 13911119999
push_done() {  # every recipient had their turn and every message its receipt (bounded)
  for _ in $(seq 1 100); do
    ctl push show tips-bj --format csv | awk -F, '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
      NR == 2 { exit !($col["state"] == "done" && $col["messages_delivered"] == $col["messages_sent"] &&
                       $col["messages_sent"] > 0 && $col["messages_queued"] == 0) }' && return 0
    sleep 0.2
  done
  return 1
}
push_done || die "the push did not finish (see $work/giftgated.log)"
printf '%s  (the push went to every member in its audience, but those held out)\n' "$(clock)"
say ""
say "== giftctl push show tips-bj"
ctl push show tips-bj

# --- what the operators see -----------------------------------------------

ctl_wait_delivered() {  # every message reaches its final state (bounded)
  for _ in $(seq 1 50); do
    ctl report --by messages --format csv | awk -F, 'NR > 1 { n += $3 + $4 } END { exit n > 0 }' &&
      return 0
    sleep 0.2
  done
}
ctl_wait_delivered
say ""
say "== giftctl member 13800138000"
ctl member 13800138000
say ""
say "== giftctl report"
ctl report
say ""
say "== From the daemon's log (numbers masked, no voucher codes)"
grep -m 1 'event=smpp_bound' "$work/giftgated.log"
grep 'event=mo ' "$work/giftgated.log" | tail -n 4
for secret in "$code" "$code2" "$till_key" "$points_key" "$(cat "$work/console-password")"; do
  grep -q -- "$secret" "$work/giftgated.log" && die "a voucher code, API key or password appeared in the log"
done

# --- stop ----------------------------------------------------------------

say ""
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
await unbind 5 || true
say "== giftgated stopped on SIGTERM (exit status $status), unbound from the SMSC"
printf 'quit\n' >&"$sim_in"
wait "$sim_pid" 2>/dev/null || true
sim_pid=
[ $status -eq 0 ] || die "giftgated exited with $status"
