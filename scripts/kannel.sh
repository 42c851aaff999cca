#!/usr/bin/env bash
# Runs Debian's Kannel (bearerbox + smsbox) as the reference SMS gateway that
# the benchmark compares giftgate with.
#
# Usage:
#   scripts/kannel.sh install
#       Installs the Debian package "kannel" if bearerbox/smsbox are missing,
#       without leaving the system's own Kannel service running.
#   scripts/kannel.sh start <smsc-port> <workdir>
#       Writes <workdir>/kannel.conf, starts bearerbox and smsbox in the
#       background (pids in <workdir>/bearerbox.pid and smsbox.pid) and waits
#       until Kannel is bound to the SMSC at 127.0.0.1:<smsc-port>.
#       KANNEL_ADMIN_PORT / KANNEL_SMSBOX_PORT pick Kannel's own ports
#       (default: the first free pair from 13000/13001 on). The chosen ports
#       are written to <workdir>/kannel.ports.
#   scripts/kannel.sh stop <workdir>
#       Stops what "start" started (TERM, then KILL after 10 s).
#
# Kannel binds once as a transceiver (system-id/password kannel/kannel) and
# answers every incoming message with a fixed text sent back to its sender.
# Everything it writes (config, logs, message store, pids) stays in <workdir>.

set -euo pipefail

readonly REPLY_TEXT='Thanks, your message was received'
readonly ADMIN_PASSWORD='bench'
readonly START_TIMEOUT=30
readonly STOP_TIMEOUT=10

die() { echo "kannel.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- install ---

# Pids of running Kannel processes, one a line: first the package's
# run_kannel_box watchdogs (which would restart a box killed under them),
# then bearerbox/smsbox/wapbox.
kannel_pids() {
    ps -eo pid=,comm= | awk '
        $2 == "run_kannel_box" { print $1 }
        $2 == "bearerbox" || $2 == "smsbox" || $2 == "wapbox" { boxes = boxes $1 "\n" }
        END { printf "%s", boxes }'
}

cmd_install() {
    if command -v bearerbox >/dev/null && command -v smsbox >/dev/null; then
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die "install needs root (apt-get)"

    local policy=/usr/sbin/policy-rc.d backup='' log before
    log=$(mktemp)
    before=$(kannel_pids)

    # Keep the package from starting the system service: a policy-rc.d that
    # answers 101 ("action forbidden") for the duration of the install. An
    # existing policy-rc.d is put back afterwards.
    if [[ -e $policy ]]; then
        backup=$(mktemp)
        cp -p "$policy" "$backup"
    fi
    # shellcheck disable=SC2064  # expand now: the locals are gone at exit
    trap "if [[ -n '$backup' ]]; then cp -p '$backup' '$policy'; rm -f '$backup'; else rm -f '$policy'; fi; rm -f '$log'" EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"

    local apt=(apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 install kannel)
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" >"$log" 2>&1; then
        if ! { DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update &&
               DEBIAN_FRONTEND=noninteractive "${apt[@]}"; } >"$log" 2>&1; then
            cat "$log" >&2
            die "apt-get install kannel failed"
        fi
    fi

    # Should a Kannel process have been started anyway, stop it: first through
    # the package's init script, then by pid (only the new ones).
    local pid stray=()
    for pid in $(kannel_pids); do
        grep -qx "$pid" <<<"$before" || stray+=("$pid")
    done
    if ((${#stray[@]})); then
        if [[ -x /etc/init.d/kannel ]]; then
            /etc/init.d/kannel stop >/dev/null 2>&1 || true
        fi
        for pid in "${stray[@]}"; do
            kill -TERM "$pid" 2>/dev/null || true
        done
        sleep 2
        for pid in "${stray[@]}"; do
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi

    if ! command -v bearerbox >/dev/null || ! command -v smsbox >/dev/null; then
        die "kannel installed but bearerbox/smsbox not found"
    fi
}

# ------------------------------------------------------------------ start ---

# True when something listens on TCP port $1 (any local address).
port_busy() {
    if command -v ss >/dev/null; then
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# Fetches bearerbox's status page (plain text) on stdout; fails if it is not up.
status_page() {
    local url="http://127.0.0.1:$1/status.txt?password=$ADMIN_PASSWORD"
    if command -v curl >/dev/null; then
        curl -fsS --max-time 2 "$url" 2>/dev/null
    elif command -v wget >/dev/null; then
        wget -q -T 2 -O - "$url" 2>/dev/null
    else
        local line
        { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
        printf 'GET /status.txt?password=%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$ADMIN_PASSWORD" >&3
        while IFS= read -r -t 2 line <&3; do echo "$line"; done
        exec 3<&-
    fi
}

# True while process $1 exists, is not a zombie and runs bearerbox or smsbox
# (so a pid reused by something else is never signalled).
alive() {
    local state comm
    read -r state comm < <(ps -o stat=,comm= -p "$1" 2>/dev/null) || return 1
    [[ $state != Z* && ($comm == bearerbox || $comm == smsbox) ]]
}

# True while our own child $1 runs (right after the fork it is not yet
# called bearerbox/smsbox; until it is reaped, its pid cannot be reused).
child_alive() {
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $state != Z* ]]
}

write_config() {
    local smsc_port=$1 dir=$2 admin_port=$3 smsbox_port=$4
    cat >"$dir/kannel.conf" <<EOF
# Written by scripts/kannel.sh; rewritten on every start.

group = core
admin-port = $admin_port
admin-interface = 127.0.0.1
admin-password = $ADMIN_PASSWORD
status-password = $ADMIN_PASSWORD
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = $smsbox_port
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "$dir/bearerbox.log"
log-level = 1
access-log = "$dir/bearerbox-access.log"
# Keep queued messages on disk, as giftgate does with its own store, so the
# comparison is not against a gateway that only holds messages in memory.
store-type = file
store-location = "$dir/kannel.store"

# One SMPP session to the SMSC: one bind as transceiver, no throughput limit,
# the same window of outstanding submits as giftgate, no delivery receipts.
group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = $smsc_port
transceiver-mode = true
smsc-username = kannel
smsc-password = kannel
system-type = ""
source-addr-autodetect = true
max-pending-submits = 10
enquire-link-interval = 30
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $smsbox_port
log-file = "$dir/smsbox.log"
log-level = 1
access-log = "$dir/smsbox-access.log"

# Every incoming message (no keyword matched: the default service) gets the
# same fixed answer, sent back to its sender.
group = sms-service
keyword = default
text = "$REPLY_TEXT"
max-messages = 1
EOF
}

# Runs "$@" in the background with stdin from /dev/null, stdout and stderr to
# file $1, and no other descriptor inherited from our caller (an open pipe
# would keep the caller waiting for as long as Kannel runs). The pid is $!.
spawn() {
    local out=$1
    shift
    (
        local fd
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null; fi
        done
        exec "$@" </dev/null >"$out" 2>&1
    ) &
}

cmd_start() {
    local smsc_port=$1 dir=$2
    if ! [[ $smsc_port =~ ^[0-9]+$ ]] || ((smsc_port < 1 || smsc_port > 65535)); then
        die "bad smsc port: $smsc_port"
    fi
    if ! command -v bearerbox >/dev/null || ! command -v smsbox >/dev/null; then
        die "bearerbox/smsbox not found: run '$0 install' first"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)

    local f
    for f in bearerbox smsbox; do
        if [[ -s $dir/$f.pid ]] && alive "$(<"$dir/$f.pid")"; then
            die "$f already running from $dir (pid $(<"$dir/$f.pid")); stop it first"
        fi
    done

    # Kannel's own ports: as given, or the first free pair from 13000 on.
    local admin_port smsbox_port
    if [[ -n ${KANNEL_ADMIN_PORT:-} || -n ${KANNEL_SMSBOX_PORT:-} ]]; then
        admin_port=${KANNEL_ADMIN_PORT:-13000}
        smsbox_port=${KANNEL_SMSBOX_PORT:-$((admin_port + 1))}
        local p
        for p in "$admin_port" "$smsbox_port"; do
            [[ $p =~ ^[0-9]+$ ]] || die "bad port: $p"
            [[ $p != "$smsc_port" && $admin_port != "$smsbox_port" ]] ||
                die "ports must differ (smsc $smsc_port, admin $admin_port, smsbox $smsbox_port)"
            port_busy "$p" && die "port $p is in use"
        done
    else
        admin_port=13000
        while ((admin_port < 65000)); do
            smsbox_port=$((admin_port + 1))
            if [[ $admin_port != "$smsc_port" && $smsbox_port != "$smsc_port" ]] &&
               ! port_busy "$admin_port" && ! port_busy "$smsbox_port"; then
                break
            fi
            admin_port=$((admin_port + 2))
        done
        ((admin_port < 65000)) || die "no free port pair for Kannel"
    fi

    write_config "$smsc_port" "$dir" "$admin_port" "$smsbox_port"
    printf 'admin=%s smsbox=%s smsc=%s\n' "$admin_port" "$smsbox_port" "$smsc_port" >"$dir/kannel.ports"
    # Each start is a fresh run: messages left in the store by an earlier run
    # would otherwise be sent again.
    rm -f "$dir"/kannel.store "$dir"/kannel.store.*

    # Plain background processes (Kannel's -d/-P daemon options are not used).
    # -v 2: only warnings and worse on stderr (a file here); the log files get
    # info and above (log-level 1).
    spawn "$dir/bearerbox.out" bearerbox -v 2 "$dir/kannel.conf"
    echo $! >"$dir/bearerbox.pid"
    local deadline=$((SECONDS + START_TIMEOUT)) status='' ok=0

    # smsbox gives up if bearerbox is not listening yet: start it once
    # bearerbox answers on its admin port.
    while ((SECONDS < deadline)); do
        child_alive "$(<"$dir/bearerbox.pid")" || break
        if status_page "$admin_port" >/dev/null; then
            spawn "$dir/smsbox.out" smsbox -v 2 "$dir/kannel.conf"
            echo $! >"$dir/smsbox.pid"
            break
        fi
        sleep 0.2
    done

    # Ready when the SMSC session is online and smsbox is connected.
    while [[ -s $dir/smsbox.pid ]] && ((SECONDS < deadline)); do
        if ! child_alive "$(<"$dir/bearerbox.pid")" || ! child_alive "$(<"$dir/smsbox.pid")"; then
            break
        fi
        if status=$(status_page "$admin_port") &&
           grep -Eq '^ *sim[[ ].*\(online' <<<"$status" &&
           grep -Eq 'smsbox:.*\(on-line' <<<"$status"; then
            ok=1
            break
        fi
        sleep 0.2
    done

    if ((!ok)); then
        echo "kannel.sh: Kannel did not bind to 127.0.0.1:$smsc_port within ${START_TIMEOUT}s" >&2
        [[ -n $status ]] && { echo "--- status.txt"; sed -n '/^Box connections/,$p' <<<"$status"; } >&2
        for f in bearerbox.out bearerbox.log smsbox.out smsbox.log; do
            [[ -s $dir/$f ]] && { echo "--- $dir/$f (tail)"; tail -n 10 "$dir/$f"; } >&2
        done
        cmd_stop "$dir"
        exit 1
    fi
}

# ------------------------------------------------------------------- stop ---

stop_pid() {
    local pidfile=$1 pid deadline
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + STOP_TIMEOUT))
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if alive "$pid"; then
            echo "kannel.sh: pid $pid ($pidfile) ignored TERM, killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 5))
            while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        fi
    fi
    rm -f "$pidfile"
}

cmd_stop() {
    local dir=$1
    [[ -d $dir ]] || die "no such directory: $dir"
    # smsbox first, so bearerbox need not hold messages for it.
    stop_pid "$dir/smsbox.pid"
    stop_pid "$dir/bearerbox.pid"
}

# ------------------------------------------------------------------- main ---

case ${1:-} in
    install) (($# == 1)) || usage; cmd_install ;;
    start)   (($# == 3)) || usage; cmd_start "$2" "$3" ;;
    stop)    (($# == 2)) || usage; cmd_stop "$2" ;;
    *)       usage ;;
esac
