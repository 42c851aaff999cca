#!/bin/sh
# Rates conf/giftgated.service's sandbox with systemd-analyze security, as
# the unit is written (--offline), and fails when the overall exposure is
# above the threshold, listing what counts against it: so a setting dropped
# or loosened shows. Measured on 2026-12-02 with systemd 252 (Debian
# bookworm): 0.9 ("SAFE"); the unit before IPAddressDeny=, PrivateUsers=,
# PrivateMounts= and RemoveIPC= rated 1.4.
# Usage: check-security.sh UNIT GIFTGATED [THRESHOLD]
set -eu
unit=$1
giftgated=$2
threshold=${3:-1.0}
if ! command -v systemd-analyze >/dev/null; then
  echo "check-security: systemd-analyze not installed" >&2
  exit 77
fi
if ! systemd-analyze --help 2>/dev/null | grep -q -- '--offline'; then
  echo "check-security: this systemd-analyze cannot rate a unit file offline (systemd < 250)" >&2
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# As check-unit.sh: no man pages installed here, ExecStart the build.
sed -e "s|/usr/local/sbin/giftgated|$giftgated|g" -e '/^Documentation=/d' "$unit" > "$dir/giftgated.service"
# Its own --threshold (default 100, on a scale ten times the one shown)
# decides its exit status; the level is read from the text instead.
out=$(systemd-analyze security --offline=true --no-pager "$dir/giftgated.service" 2>&1) || true
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for giftgated\.service: \([0-9][0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
  printf '%s\n' "$out"
  echo "check-security: no overall exposure level in the output" >&2
  exit 1
fi
if awk -v level="$level" -v most="$threshold" 'BEGIN { exit !(level + 0 <= most + 0) }'; then
  echo "check-security: $unit exposure $level, at most $threshold"
  exit 0
fi
printf '%s\n' "$out" | grep -v '✓' || true
echo "check-security: $unit exposure $level is above $threshold" >&2
exit 1
