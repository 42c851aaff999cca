#!/bin/sh
# Checks conf/giftgated.service with systemd-analyze, pointed at the built
# daemon: any complaint (an unknown key, a bad value) fails the test.
# Usage: check-unit.sh UNIT GIFTGATED
set -eu
unit=$1
giftgated=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "check-unit: systemd-analyze not installed" >&2
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Documentation= names man pages not installed here; ExecStart the build.
sed -e "s|/usr/local/sbin/giftgated|$giftgated|g" -e '/^Documentation=/d' "$unit" > "$dir/giftgated.service"
out=$(systemd-analyze verify "$dir/giftgated.service" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
echo "check-unit: $unit verified"
