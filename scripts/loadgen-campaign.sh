# shellcheck shell=bash disable=SC2154  # the callers' globals: root, work, phase, ...
# Sourced by scripts/bench.sh, bench-binds.sh, bench-push.sh, bench-api.sh and drills.sh:
# the programs and the campaign they run giftgated on, against
# giftgate-loadgen, and the benchmark's phases. Needs $root.

# Builds the programs (unless $bin names a build directory that has them)
# and sets $bin, $loadgen, $giftgated and $giftctl.
loadgen_programs() {
  if [ -z "${bin:-}" ]; then
    GIFTGATE_BUILD_TARGETS="giftgated giftctl giftgate-loadgen" "$root/scripts/bootstrap.sh" >&2
    bin=$root/build
  fi
  loadgen=$bin/tests/giftgate-loadgen
  giftgated=$bin/daemon/gateway/giftgated
  giftctl=$bin/daemon/giftctl/giftctl
}

# giftgated's configuration: $1 the generator's port, or its ports P1,P2,...
# (one SMSC each, ids a, b, ...), $2 the database, $3 the binds of each SMSC
# (default 1), $4 each SMSC's rate, shared by its binds (default 0: none).
# One port and one bind: the single smsc: section; otherwise the smscs:
# list. More lines from stdin go after the SMSC settings: those indented by
# two spaces before any other go into each SMSC, the rest start new sections.
loadgen_config() {
  local today extra
  today=$(date +%Y-%m-%d)
  extra=$(cat)
  if [[ $1 == *,* ]] || [ "${3:-1}" != 1 ]; then
    loadgen_smscs "$1" "${3:-1}" "${4:-0}" "$extra"
  else
    cat <<END
smsc:
  port: $1
  rate: ${4:-0}
$extra
END
  fi
  cat <<END
storage:
  path: $2
templates:
  path: $root/templates/messages.yaml
ussd:
  menus: $root/templates/menus.yaml
metrics:
  port: 0
limits:
  # The generator's 20 merchant numbers verify at up to 50 a second each, far
  # past what one shop's number does; the members' limits stay as shipped.
  merchant_mo_per_minute: 0
  merchant_mo_per_day: 0
campaign:
  start: $(date -d "$today -1 day" +%Y-%m-%d)
  end: $(date -d "$today +60 days" +%Y-%m-%d)
  max_points_change: 10000000
END
}

# The smscs: list for loadgen_config: $1 the ports, $2 binds, $3 rate, $4
# the extra lines.
loadgen_smscs() {
  local ids=(a b c d e f g h i j k l m n o p) i=0 port line entry='' rest='' in_entry=1
  while IFS= read -r line; do
    if [ $in_entry -eq 1 ] && [[ $line == "  "* ]]; then
      entry+="  $line"$'\n'
    elif [ -n "$line" ]; then
      in_entry=0
      rest+="$line"$'\n'
    fi
  done <<< "$4"
  echo "smscs:"
  for port in ${1//,/ }; do
    printf '  - id: %s\n    port: %s\n    binds: %s\n    rate: %s\n%s' "${ids[$i]}" "$port" "$2" \
      "$3" "$entry"
    i=$((i + 1))
  done
  printf '%s' "$rest"
}

# $2 members, each with points for any number of redemptions (10,000,000,
# the default campaign.max_balance: 10,000 tier C vouchers), 20 merchants
# and stock for every redemption, in the database $1/campaign.db.
loadgen_campaign() {
  local dir=$1 members=$2 kind city
  loadgen_config 2775 "$dir/campaign.db" < /dev/null > "$dir/setup.yaml"
  "$loadgen" csv --dir "$dir" --members "$members" --points 10000000
  for kind in members merchants; do
    "$giftctl" --config "$dir/setup.yaml" --operator loadgen --quiet \
      import "$kind" "$dir/$kind.csv" > /dev/null
  done
  for city in beijing shanghai shenzhen nanjing fuzhou; do
    "$giftctl" --config "$dir/setup.yaml" --operator loadgen --quiet \
      stock C "$city" 100000000 > /dev/null
  done
}

# --- the benchmark's phases (scripts/bench.sh, scripts/bench-binds.sh) -------
# Need $work (the campaign.db there), $phase and $warmup (seconds), a pids
# array (every process started, for the caller's cleanup), a function
# `config PORTS DB` and optionally $members (100000) and $profile (0).

# Process figures from /proc: CPU seconds (user + system) and peak RSS (kB).
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
rss_of() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

field() {  # the value of key $1 in the report lines of file $2
  { grep -oE "(^| )$1=[^ ]+" "$2" || true; } | tail -n 1 | cut -d= -f2
}
kv() { field "$1" <(printf '%s\n' "$2"); }  # the value of key $1 in the text $2

# A control command to the generator started with a control channel
# ($ctl_fd, its output in $out); prints its answer, the line "ok cmd=NAME
# ..." (waited for, at most 10 s).
ask() {
  local name=${1%% *} seen t=0
  seen=$(grep -cE "^ok cmd=$name( |\$)" "$out" || true)
  printf '%s\n' "$1" >&"$ctl_fd"
  while [ "$(grep -cE "^ok cmd=$name( |\$)" "$out" || true)" -le "$seen" ]; do
    [ $t -ge 100 ] && { echo "$(basename "$0"): the generator did not answer $1" >&2; return 1; }
    sleep 0.1; t=$((t + 1))
  done
  grep -E "^ok cmd=$name( |\$)" "$out" | tail -n 1
}

# Starts the generator for one phase; sets $lg_pid, $port (the first SMSC's)
# and $ports (every SMSC's, P1,P2,...).
start_loadgen() {  # $1 name, $2 rate, remaining: extra options
  local name=$1 rate=$2
  shift 2
  # Each phase starts with the disk idle: the campaign just imported and
  # copied (over 100 MB) would otherwise still be going to disk during the
  # phase, in the way of the daemon's fsyncs (tests/bench/RESULTS.md, item 9).
  sync
  "$loadgen" smsc --port 0 --members "${members:-100000}" --rate "$rate" --warmup "$warmup" \
    --duration "$phase" --settle 30 "$@" > "$work/$name.report" 2> "$work/$name.loadgen.log" &
  lg_pid=$!
  pids+=("$lg_pid")
  port=
  for _ in $(seq 1 100); do
    port=$(field port "$work/$name.report" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "${0##*/}: the generator did not start" >&2; exit 1; }
  ports=$(field ports "$work/$name.report")
  ports=${ports:-$port}
}

wait_loadgen() {  # bounded by the phase, the settle time and a margin
  local limit=$((phase + warmup + 60)) t=0
  while kill -0 "$lg_pid" 2>/dev/null && [ $t -lt $((limit * 10)) ]; do sleep 0.1; t=$((t + 1)); done
  kill -0 "$lg_pid" 2>/dev/null && { echo "${0##*/}: the generator did not finish" >&2; exit 1; }
  wait "$lg_pid" || true
}

# One phase of giftgated at rate $2 (0: as fast as it answers), with the
# configuration the caller's `config PORTS DB` writes.
run_giftgated() {  # $1 name, $2 rate, remaining: more generator options
  local name=$1 rate=$2 db=$work/$1.db
  shift 2
  cp "$work/campaign.db" "$db"
  start_loadgen "$name" "$rate" --db "$db" "$@"
  config "$ports" "$db" > "$work/$name.yaml"
  # The flood again with every per-number limit off: the fair order alone.
  [ "$name" = flood-unlimited ] && sed -i 's/^limits:$/limits:\n  mo_per_minute: 0\n  mo_per_day: 0\n  replies_per_minute: 0\n  replies_per_day: 0/' "$work/$name.yaml"
  "$giftgated" --config "$work/$name.yaml" 2> "$work/$name.giftgated.log" &
  local daemon=$! recorder=
  pids+=("$daemon")
  if [ "${profile:-0}" -eq 1 ]; then
    perf record -F 999 -g -p "$daemon" -o "$work/$name.perf.data" > /dev/null 2>&1 &
    recorder=$!
  fi
  wait_loadgen
  if [ -n "$recorder" ]; then
    kill -INT "$recorder"
    wait "$recorder" || true
    perf report -i "$work/$name.perf.data" --no-children --percent-limit 1.5 --stdio \
      2> /dev/null | grep -v '^$' | head -n 150 > "$work/$name.perf.txt" || true
  fi
  local cpu rss
  cpu=$(cpu_of "$daemon")
  rss=$(rss_of "$daemon")
  kill -TERM "$daemon"
  wait "$daemon" || true
  echo "process cpu_s=$cpu peak_rss_kb=$rss" >> "$work/$name.report"
}

# Stops the processes named by pid: SIGTERM to all, up to 5 s each to go,
# then SIGKILL; reaps them.
stop_pids() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
